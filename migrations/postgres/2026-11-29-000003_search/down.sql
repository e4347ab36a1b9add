DROP TABLE article_search;
