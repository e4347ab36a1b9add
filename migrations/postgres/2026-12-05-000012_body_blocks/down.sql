-- Back to plain paragraphs: the text of paragraph and quote blocks, in
-- order (headings, lists, tables, images and embeds are lost).
UPDATE articles SET
  body = COALESCE((
    SELECT json_agg(t ORDER BY n)::text FROM (
      SELECT n, (SELECT string_agg(r ->> 'text', '' ORDER BY m)
                 FROM json_array_elements(b -> 'runs') WITH ORDINALITY AS rr(r, m)) AS t
      FROM json_array_elements(articles.body::json) WITH ORDINALITY AS bb(b, n)
      WHERE b ->> 'type' IN ('paragraph', 'quote')) AS texts
    WHERE t IS NOT NULL), '[]'),
  body_format = 'paragraphs'
WHERE body_format = 'blocks';
ALTER TABLE articles DROP CONSTRAINT articles_body_format_check;
ALTER TABLE articles ADD CONSTRAINT articles_body_format_check
    CHECK (body_format IN ('paragraphs', 'html'));
ALTER TABLE articles ALTER COLUMN body_format SET DEFAULT 'paragraphs';
