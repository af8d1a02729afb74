-- Bulk data for benchmarks: %(users)s users and %(activities)s activities spread over 30 days,
-- generated inside PostgreSQL (no round trips). Words are drawn from a fixed vocabulary so
-- search terms have a known selectivity: "cruddur" appears in every message, "fargate" in ~1%%.
INSERT INTO users (display_name, handle, email)
SELECT 'Bench User ' || i, 'bench' || i, 'bench' || i || '@example.com'
FROM generate_series(1, %(users)s) AS i
ON CONFLICT DO NOTHING;

INSERT INTO activities (user_uuid, message, expires_at, created_at)
SELECT u.uuid,
       'cruddur bench message ' || g || ' about ' ||
         (ARRAY['containers','postgres','dynamodb','flask','gunicorn','tasks','services','clusters'])[1 + g %% 8] ||
         CASE WHEN g %% 100 = 0 THEN ' on fargate' ELSE '' END,
       now() + interval '30 days',
       now() - (g * interval '1 second')
FROM generate_series(1, %(activities)s) AS g
JOIN LATERAL (SELECT uuid FROM users WHERE handle = 'bench' || (1 + g %% %(users)s)) u ON true
-- Oldest first, as a live table fills: rows near in time share pages (without this the join emits
-- rows grouped by user, and a newest-first page touches one heap page per row).
ORDER BY g DESC;

ANALYZE users;
ANALYZE activities;
