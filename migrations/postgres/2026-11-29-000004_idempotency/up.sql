-- A retried write carries the same Idempotency-Key: the key is claimed in the
-- transaction of the write it guards, and the reply is kept for replays.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    actor_user_id INTEGER NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    claim TEXT NOT NULL,
    response TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_user_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
