-- Back to plain paragraphs: the text of paragraph and quote blocks, in
-- order (headings, lists, tables, images and embeds are lost).
UPDATE articles SET
  body = COALESCE((
    SELECT json_group_array(t) FROM (
      SELECT (SELECT group_concat(json_extract(r.value, '$.text'), '')
              FROM json_each(b.value, '$.runs') AS r) AS t
      FROM json_each(articles.body) AS b
      WHERE json_extract(b.value, '$.type') IN ('paragraph', 'quote'))
    WHERE t IS NOT NULL), '[]'),
  body_format = 'paragraphs'
WHERE body_format = 'blocks';
ALTER TABLE articles ADD COLUMN body_kind TEXT NOT NULL DEFAULT 'paragraphs'
    CHECK (body_kind IN ('paragraphs', 'html'));
UPDATE articles SET body_kind = body_format;
ALTER TABLE articles DROP COLUMN body_format;
ALTER TABLE articles RENAME COLUMN body_kind TO body_format;
