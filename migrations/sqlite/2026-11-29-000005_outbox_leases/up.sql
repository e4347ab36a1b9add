-- Every node runs the webhook worker; a node leases the events it is
-- delivering so that no other node sends them too.
ALTER TABLE webhook_outbox ADD COLUMN leased_until TIMESTAMP;
