DROP TRIGGER article_search_ad;
DROP TRIGGER article_search_ai;
DROP TABLE article_fts;
DROP TABLE article_search;
