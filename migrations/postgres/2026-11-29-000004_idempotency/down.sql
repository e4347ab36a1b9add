DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    actor_user_id INTEGER REFERENCES users (id),
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
