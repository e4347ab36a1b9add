-- Search terms, made by the application (simplified script, jieba words and
-- Han bigrams), so both engines index and match the same tokens.
CREATE TABLE article_search (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id),
    title_terms TEXT NOT NULL,
    body_terms TEXT NOT NULL
);
CREATE VIRTUAL TABLE article_fts USING fts5(
    title_terms, body_terms,
    content = 'article_search', content_rowid = 'article_id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER article_search_ai AFTER INSERT ON article_search BEGIN
    INSERT INTO article_fts (rowid, title_terms, body_terms)
    VALUES (new.article_id, new.title_terms, new.body_terms);
END;
CREATE TRIGGER article_search_ad AFTER DELETE ON article_search BEGIN
    INSERT INTO article_fts (article_fts, rowid, title_terms, body_terms)
    VALUES ('delete', old.article_id, old.title_terms, old.body_terms);
END;
