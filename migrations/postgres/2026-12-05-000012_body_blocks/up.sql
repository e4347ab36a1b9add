-- Bodies become typed blocks: each stored paragraph becomes a paragraph
-- block of one plain run (the shape `Body::from_paragraphs` writes).
-- Bodies stored as HTML are read into blocks when read (src/body).
ALTER TABLE articles DROP CONSTRAINT articles_body_format_check;
ALTER TABLE articles ADD CONSTRAINT articles_body_format_check
    CHECK (body_format IN ('paragraphs', 'html', 'blocks'));
ALTER TABLE articles ALTER COLUMN body_format SET DEFAULT 'blocks';
UPDATE articles SET
  body = COALESCE((
    SELECT json_agg(json_build_object(
      'type', 'paragraph',
      'runs', json_build_array(json_build_object('text', btrim(p, E' \t\r\n')))) ORDER BY n)::text
    FROM json_array_elements_text(articles.body::json) WITH ORDINALITY AS e(p, n)
    WHERE btrim(p, E' \t\r\n') <> ''), '[]'),
  body_format = 'blocks'
WHERE body_format = 'paragraphs';
