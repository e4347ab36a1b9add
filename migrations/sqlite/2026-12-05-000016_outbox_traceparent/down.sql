ALTER TABLE webhook_outbox DROP COLUMN traceparent;
