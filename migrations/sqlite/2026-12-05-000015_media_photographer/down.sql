ALTER TABLE media DROP COLUMN photographer_id;
