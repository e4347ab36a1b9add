-- A takedown request may name pictures. Withdrawing one places a hold on
-- the picture, as on an article: it is withheld from readers on every
-- surface (renditions, lead images, image blocks, feeds) while any hold on
-- it is active. `media.held_since` mirrors "has an active hold" (the time
-- the first of them was placed), written in the same transaction.
ALTER TABLE takedown_targets ADD COLUMN media_id TEXT REFERENCES media (id);
CREATE INDEX takedown_targets_media ON takedown_targets (media_id);

CREATE TABLE media_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    media_id TEXT NOT NULL REFERENCES media (id),
    takedown_id INTEGER NOT NULL REFERENCES takedown_requests (id),
    placed_at TIMESTAMP NOT NULL,
    placed_by_user_id INTEGER REFERENCES users (id),
    released_at TIMESTAMP,
    released_by_user_id INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX media_holds_request_media ON media_holds (takedown_id, media_id);
CREATE INDEX media_holds_active ON media_holds (media_id) WHERE released_at IS NULL;

ALTER TABLE media ADD COLUMN held_since TIMESTAMP;
