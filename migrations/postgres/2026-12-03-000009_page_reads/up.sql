-- A section page lists the newest public articles of a section and of every
-- section below it; the home page those of the whole site. Each article that
-- may be public (published or scheduled, with a time, under no hold) has one
-- placement per scope it shows in: its section, each ancestor of it, and 0
-- for the whole site. A page is then one index-ordered scan of one scope,
-- whatever the depth of the tree; `published_at <= now` is checked at read
-- time so that scheduled articles appear when their time comes.
CREATE TABLE article_placements (
    scope_id INTEGER NOT NULL,
    published_at TIMESTAMP NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    PRIMARY KEY (scope_id, published_at, article_id)
);
CREATE INDEX article_placements_article ON article_placements (article_id);

INSERT INTO article_placements (scope_id, published_at, article_id)
WITH RECURSIVE chain(article_id, published_at, scope_id) AS (
    SELECT id, published_at, section_id FROM articles
    WHERE status IN ('published', 'scheduled') AND held_since IS NULL AND published_at IS NOT NULL
    UNION ALL
    SELECT c.article_id, c.published_at, s.parent_id
    FROM chain c JOIN sections s ON s.id = c.scope_id
    WHERE s.parent_id IS NOT NULL
)
SELECT scope_id, published_at, article_id FROM chain
UNION ALL
SELECT 0, published_at, id FROM articles
WHERE status IN ('published', 'scheduled') AND held_since IS NULL AND published_at IS NOT NULL;

-- Every credit of an article, in order, as JSON ([{"name": …, "role": …}]),
-- kept with the article by the write that sets its credits: an article and
-- its byline are one row to read.
ALTER TABLE articles ADD COLUMN credits TEXT NOT NULL DEFAULT '[]';
UPDATE articles SET credits = COALESCE((
    SELECT jsonb_agg(jsonb_build_object('name', c.name, 'role', ac.role) ORDER BY ac.position)::text
    FROM article_credits ac JOIN contributors c ON c.id = ac.contributor_id
    WHERE ac.article_id = articles.id
), '[]');
