COMMENT ON COLUMN users.cruds_count IS NULL;
DROP INDEX IF EXISTS activities_user_live_idx;
