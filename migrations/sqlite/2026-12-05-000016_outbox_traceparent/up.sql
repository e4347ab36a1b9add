-- The W3C trace context of the change that queued an event, so that its
-- delivery continues the change's trace (NULL when traces are off).
ALTER TABLE webhook_outbox ADD COLUMN traceparent TEXT;
