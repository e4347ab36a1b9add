-- A takedown withdraws an article by placing a legal hold on it; the
-- editorial status is left alone. An article is public only while no hold on
-- it is active. `articles.held_since` is set while at least one hold is
-- active (the time the first of them was placed), so public lists filter on
-- the article row alone.
CREATE TABLE legal_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    takedown_id INTEGER REFERENCES takedown_requests (id),
    reason TEXT NOT NULL,
    placed_at TIMESTAMP NOT NULL,
    placed_by_user_id INTEGER REFERENCES users (id),
    released_at TIMESTAMP,
    released_by_user_id INTEGER REFERENCES users (id)
);
CREATE UNIQUE INDEX legal_holds_request_article ON legal_holds (takedown_id, article_id);
CREATE INDEX legal_holds_active ON legal_holds (article_id) WHERE released_at IS NULL;

ALTER TABLE articles ADD COLUMN held_since TIMESTAMP;
-- When the article last entered or left public view (or moved section while
-- public): a feed's Last-Modified must move when its item set changes, also
-- when an item leaves it.
ALTER TABLE articles ADD COLUMN public_changed_at TIMESTAMP;
-- A slug is reserved when its article is published. Until then a draft whose
-- wanted slug is held by an article its author may not see keeps the wanted
-- slug here and a stand-in in `slug`, so the conflict is never observable.
ALTER TABLE articles ADD COLUMN requested_slug TEXT;

-- Withdrawn articles become published articles under the hold of the
-- request that withdrew them.
INSERT INTO legal_holds (article_id, takedown_id, reason, placed_at)
SELECT a.id, t.id, 'takedown', COALESCE(a.withdrawn_at, a.updated_at)
FROM articles a
LEFT JOIN takedown_requests t
    ON a.withdrawn_reason LIKE 'takedown:%'
    AND t.id = CAST(substr(a.withdrawn_reason, 10) AS INTEGER)
WHERE a.status = 'withdrawn';
UPDATE articles SET held_since = COALESCE(withdrawn_at, updated_at),
    public_changed_at = COALESCE(withdrawn_at, updated_at), status = 'published'
WHERE status = 'withdrawn';

ALTER TABLE articles DROP COLUMN withdrawn_at;
ALTER TABLE articles DROP COLUMN withdrawn_reason;

-- Public lists read only rows without an active hold, in index order.
DROP INDEX articles_public_newest;
DROP INDEX articles_section_newest;
-- held_since is carried so that the index alone answers the page's keys.
CREATE INDEX articles_public_newest ON articles (status, published_at DESC, id DESC, held_since)
    WHERE held_since IS NULL;
CREATE INDEX articles_section_newest
    ON articles (section_id, status, published_at DESC, id DESC, held_since)
    WHERE held_since IS NULL;
-- The removal feed: held articles by when they were withdrawn.
CREATE INDEX articles_held ON articles (held_since, id) WHERE held_since IS NOT NULL;
CREATE INDEX articles_public_changed ON articles (public_changed_at);
CREATE INDEX articles_section_public_changed ON articles (section_id, public_changed_at);
