DROP INDEX articles_public_changed;
DROP INDEX articles_section_public_changed;
DROP INDEX articles_held;
DROP INDEX articles_public_newest;
DROP INDEX articles_section_newest;
CREATE INDEX articles_public_newest ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_section_newest ON articles (section_id, status, published_at DESC, id DESC);
ALTER TABLE articles ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE articles ADD COLUMN withdrawn_reason TEXT;
UPDATE articles SET status = 'withdrawn', withdrawn_at = held_since,
    withdrawn_reason = (SELECT 'takedown:' || h.takedown_id FROM legal_holds h
        WHERE h.article_id = articles.id AND h.released_at IS NULL ORDER BY h.id LIMIT 1)
WHERE held_since IS NOT NULL;
ALTER TABLE articles DROP COLUMN held_since;
ALTER TABLE articles DROP COLUMN public_changed_at;
UPDATE articles SET slug = requested_slug WHERE requested_slug IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM articles o WHERE o.slug = articles.requested_slug);
ALTER TABLE articles DROP COLUMN requested_slug;
DROP TABLE legal_holds;
