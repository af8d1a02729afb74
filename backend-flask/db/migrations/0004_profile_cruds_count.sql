-- A profile's cruds_count counts what the profile lists: its top-level, unexpired activities (it counted
-- replies too, and never forgot an expired crud). Counted from this index alone (an index-only scan of
-- the user's live cruds); users.cruds_count is no longer written or read, and stays only so tasks of the
-- previous release keep working during a rolling deploy (drop it in a later migration).
-- depends: 0003_activities_search_idx
CREATE INDEX IF NOT EXISTS activities_user_live_idx ON activities (user_uuid, expires_at)
  WHERE reply_to_activity_uuid IS NULL;
COMMENT ON COLUMN users.cruds_count IS 'unused since migration 0004: the API counts live top-level activities';
