ALTER TABLE webhook_outbox DROP COLUMN leased_until;
