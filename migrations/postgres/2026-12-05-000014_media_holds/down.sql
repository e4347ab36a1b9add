ALTER TABLE media DROP COLUMN held_since;
DROP TABLE media_holds;
DROP INDEX takedown_targets_media;
ALTER TABLE takedown_targets DROP COLUMN media_id;
