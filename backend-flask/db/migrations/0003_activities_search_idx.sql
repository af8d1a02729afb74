-- Search, newest first, as an index-only walk: the tsvector and the expiry ride in the index, so the
-- rows a rare term skips are filtered without a heap fetch each (2.7 ms -> 0.3-0.6 ms per page at 1M
-- rows for a term in 1% of messages). Replaces 0002's plain index, which served only search.
-- depends: 0002_activities_newest_idx
DROP INDEX IF EXISTS activities_newest_idx;
CREATE INDEX IF NOT EXISTS activities_search_idx ON activities (created_at DESC, uuid DESC)
  INCLUDE (expires_at, message_tsv);
