-- Bodies become typed blocks: each stored paragraph becomes a paragraph
-- block of one plain run (the shape `Body::from_paragraphs` writes).
-- Bodies stored as HTML are read into blocks when read (src/body).
-- SQLite cannot alter a CHECK constraint: the column is replaced by one
-- that allows 'blocks' (a column's own CHECK goes with it on DROP COLUMN).
ALTER TABLE articles ADD COLUMN body_kind TEXT NOT NULL DEFAULT 'blocks'
    CHECK (body_kind IN ('paragraphs', 'html', 'blocks'));
UPDATE articles SET body_kind = body_format;
ALTER TABLE articles DROP COLUMN body_format;
ALTER TABLE articles RENAME COLUMN body_kind TO body_format;
UPDATE articles SET
  body = COALESCE((
    SELECT json_group_array(json_object(
      'type', 'paragraph',
      'runs', json_array(json_object('text', trim(p.value, ' ' || char(9, 10, 13))))))
    FROM json_each(articles.body) AS p
    WHERE trim(p.value, ' ' || char(9, 10, 13)) <> ''), '[]'),
  body_format = 'blocks'
WHERE body_format = 'paragraphs' AND json_valid(body);
