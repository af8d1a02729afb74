DROP INDEX IF EXISTS activities_search_idx;
CREATE INDEX IF NOT EXISTS activities_newest_idx ON activities (created_at DESC, uuid DESC);
