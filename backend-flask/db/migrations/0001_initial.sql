-- Users, activities (cruds and replies) and notifications. Every list query has an index behind it.

CREATE TABLE users (
  uuid             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name     text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
  handle           text NOT NULL CHECK (handle ~ '^[A-Za-z0-9_]{1,32}$'),
  email            text NOT NULL,
  cognito_user_id  text,
  bio              text NOT NULL DEFAULT '' CHECK (char_length(bio) <= 280),
  cruds_count      integer NOT NULL DEFAULT 0 CHECK (cruds_count >= 0),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_handle_key ON users (lower(handle));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_cognito_user_id_key ON users (cognito_user_id);

CREATE TABLE activities (
  uuid                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_uuid               uuid NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
  message                 text NOT NULL CHECK (char_length(message) BETWEEN 1 AND 1024),
  replies_count           integer NOT NULL DEFAULT 0 CHECK (replies_count >= 0),
  reposts_count           integer NOT NULL DEFAULT 0 CHECK (reposts_count >= 0),
  likes_count             integer NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
  reply_to_activity_uuid  uuid REFERENCES activities (uuid) ON DELETE CASCADE,
  expires_at              timestamptz NOT NULL,
  created_at              timestamptz NOT NULL DEFAULT now(),
  message_tsv             tsvector GENERATED ALWAYS AS (to_tsvector('english', message)) STORED
);
-- home feed: top-level activities, newest first
CREATE INDEX activities_home_idx ON activities (created_at DESC, uuid DESC)
  WHERE reply_to_activity_uuid IS NULL;
-- a profile's activities, newest first
CREATE INDEX activities_user_idx ON activities (user_uuid, created_at DESC, uuid DESC)
  WHERE reply_to_activity_uuid IS NULL;
-- a conversation's replies, oldest first
CREATE INDEX activities_replies_idx ON activities (reply_to_activity_uuid, created_at, uuid)
  WHERE reply_to_activity_uuid IS NOT NULL;
-- full-text search
CREATE INDEX activities_message_tsv_idx ON activities USING gin (message_tsv);

CREATE TABLE notifications (
  user_uuid      uuid NOT NULL REFERENCES users (uuid) ON DELETE CASCADE,
  activity_uuid  uuid NOT NULL REFERENCES activities (uuid) ON DELETE CASCADE,
  kind           text NOT NULL CHECK (kind IN ('reply', 'mention')),
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (user_uuid, activity_uuid)
);
CREATE INDEX notifications_feed_idx ON notifications (user_uuid, created_at DESC, activity_uuid DESC);
CREATE INDEX notifications_activity_idx ON notifications (activity_uuid);
