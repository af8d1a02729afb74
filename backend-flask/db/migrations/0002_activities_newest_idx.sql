-- Search (replies included) newest first: walking this index and filtering by message_tsv stops after
-- a page for common terms, where the GIN index alone would fetch and sort every match (480 ms at 1M
-- rows for a term in every message, 0.8 ms with this index). The planner still picks the GIN index
-- when its statistics say a term is rare. Found by backend-flask/tests/test_explain.py.
-- depends: 0001_initial
CREATE INDEX IF NOT EXISTS activities_newest_idx ON activities (created_at DESC, uuid DESC);
