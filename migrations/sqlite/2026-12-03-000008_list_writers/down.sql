ALTER TABLE recommendation_lists DROP COLUMN written_by;
