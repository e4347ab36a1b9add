-- The ordered log of changes that affect search: every transaction that
-- changes an article writes one entry per article here, in the same
-- transaction. Each node's search index applies the entries after its
-- last applied `seq` (kept in the index's own commit), so a node killed
-- at any moment catches up at start, and every node follows the writes of
-- the others. The entry names the article only: the index reads what the
-- article is now.
CREATE TABLE search_log (
    seq BIGSERIAL PRIMARY KEY,
    article_id INTEGER NOT NULL,
    logged_at TIMESTAMP NOT NULL
);
-- The recent entries are read again each round (see db::search_log::after).
CREATE INDEX search_log_logged_at ON search_log (logged_at);

-- Which database a search index was built from: an index folder left from
-- a database since dropped and made again under the same name is rebuilt,
-- not trusted.
CREATE TABLE search_identity (token TEXT NOT NULL);
INSERT INTO search_identity (token) VALUES (md5(random()::text || clock_timestamp()::text));
