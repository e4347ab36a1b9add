-- Uploaded pictures. The id is the first 24 hex digits of the SHA-256 of
-- the cleaned master kept in the media store (src/media).
CREATE TABLE media (
    id TEXT PRIMARY KEY,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    blurhash TEXT NOT NULL,
    alt TEXT NOT NULL DEFAULT '',
    caption TEXT NOT NULL DEFAULT '',
    credit TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    rights TEXT NOT NULL DEFAULT '',
    uploaded_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
ALTER TABLE articles ADD COLUMN lead_media_id TEXT REFERENCES media (id);
