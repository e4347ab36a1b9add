ALTER TABLE articles DROP COLUMN lead_media_id;
DROP TABLE media;
