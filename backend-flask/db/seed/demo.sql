-- Cruddur's demo users and a few activities. Idempotent: a second run changes nothing.
INSERT INTO users (display_name, handle, email, bio) VALUES
  ('Andrew Brown',   'andrewbrown', 'andrew@exampro.co',   'Cloud instructor. Cruddur founder.'),
  ('Alt Brown',      'altbrown',    'alt@exampro.co',      ''),
  ('Andrew Bayko',   'bayko',       'bayko@exampro.co',    ''),
  ('Londo Mollari',  'londo',       'lmollari@centari.com','Ambassador of the Centauri Republic.')
ON CONFLICT DO NOTHING;

INSERT INTO activities (uuid, user_uuid, message, expires_at, created_at)
SELECT v.uuid::uuid, u.uuid, v.message, now() + interval '30 days', now() - v.age::interval
FROM (VALUES
  ('6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0001', 'andrewbrown', 'This was imported as seed data!', '2 hours'),
  ('6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0002', 'altbrown',    'I am the other!',                   '90 minutes'),
  ('6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0003', 'londo',       'Ambassador @andrewbrown, the Republic would like a word.', '1 hour')
) AS v(uuid, handle, message, age)
JOIN users u ON u.handle = v.handle
ON CONFLICT DO NOTHING;

INSERT INTO activities (uuid, user_uuid, message, expires_at, created_at, reply_to_activity_uuid)
SELECT '6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0101'::uuid, u.uuid, 'Welcome aboard, Alt!', p.expires_at,
       now() - interval '80 minutes', p.uuid
FROM users u, activities p
WHERE u.handle = 'andrewbrown' AND p.uuid = '6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0002'
ON CONFLICT DO NOTHING;

-- derived counters and notifications, recomputed so the seed is consistent however often it runs
UPDATE activities p SET replies_count = (SELECT count(*) FROM activities r WHERE r.reply_to_activity_uuid = p.uuid)
WHERE p.uuid::text LIKE '6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b%';
INSERT INTO notifications (user_uuid, activity_uuid, kind, created_at)
SELECT p.user_uuid, r.uuid, 'reply', r.created_at
FROM activities r JOIN activities p ON p.uuid = r.reply_to_activity_uuid
WHERE r.uuid = '6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0101'
ON CONFLICT DO NOTHING;
INSERT INTO notifications (user_uuid, activity_uuid, kind, created_at)
SELECT u.uuid, a.uuid, 'mention', a.created_at FROM users u, activities a
WHERE u.handle = 'andrewbrown' AND a.uuid = '6f2a1c1e-8a51-4f36-9f5a-0d9d7a1b0003'
ON CONFLICT DO NOTHING;
