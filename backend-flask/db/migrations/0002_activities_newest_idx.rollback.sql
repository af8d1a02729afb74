DROP INDEX IF EXISTS activities_newest_idx;
