ALTER TABLE articles DROP COLUMN credits;
DROP TABLE article_placements;
