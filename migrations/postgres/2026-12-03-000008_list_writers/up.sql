-- Who last wrote a recommendation list: 'import' (the legacy-page importer)
-- or 'editor' (setRecommendationList). An import fills a list only while it
-- was last written by an import.
ALTER TABLE recommendation_lists ADD COLUMN written_by TEXT NOT NULL DEFAULT 'import'
    CHECK (written_by IN ('import', 'editor'));

-- Existing lists: an editor's when the audit log holds a
-- recommendations.set for the list at or after its last change (an import
-- writes no audit event for a list, so a later import leaves the list newer
-- than the editor's event); an import's otherwise.
UPDATE recommendation_lists SET written_by = 'editor'
WHERE EXISTS (
    SELECT 1 FROM audit_events e
    WHERE e.action = 'recommendations.set'
      AND e.created_at >= recommendation_lists.updated_at
      AND e.details::jsonb ->> 'name' = recommendation_lists.name
);
