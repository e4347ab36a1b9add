-- Search terms, made by the application (simplified script, jieba words and
-- Han bigrams), so both engines index and match the same tokens.
CREATE TABLE article_search (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id),
    title_terms TEXT NOT NULL,
    body_terms TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title_terms), 'A') || to_tsvector('simple', body_terms)
    ) STORED
);
CREATE INDEX article_search_tsv ON article_search USING GIN (tsv);
