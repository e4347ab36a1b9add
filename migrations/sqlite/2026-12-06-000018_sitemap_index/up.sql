-- Everything a sitemap page reads of an article, in id order: a page of
-- 50,000 URLs walks this index alone and never reads the rows (with their
-- bodies) from the table.
CREATE INDEX articles_sitemap ON articles (id, status, held_since, published_at, updated_at, slug, requested_slug);
