-- Vendor webhook ingress: sealed per-tenant webhook secrets and the receipts that make a webhook id single-use.
-- Both tables are under row-level security (ENABLE + FORCE) like every other table: the ingress sets the tenant of the
-- URL per transaction and never sees another tenant's secrets or receipts.

-- One row per tenant and vendor: the Standard Webhooks signing secrets (current and still-valid rotated ones) or the
-- TTLock callback path secret, envelope-encrypted (fresh data key, wrapped by the tenant's key; the associated data
-- binds tenant and vendor, so a blob copied to another row does not open).
CREATE TABLE webhook_endpoints (
    tenant_id   text NOT NULL REFERENCES tenants,
    vendor      text NOT NULL CHECK (vendor ~ '^[a-z][a-z0-9_-]{0,31}$'),
    sealed      bytea NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor)
);

-- A receipt is inserted in the same transaction that produces the webhook to Kafka and committed only once the
-- broker acknowledged it: a webhook id is either accepted exactly once or free to be retried. Receipts are kept far
-- longer than the signature tolerance (300 s), so a replayed signature is always still within reach.
CREATE TABLE webhook_receipts (
    tenant_id    text NOT NULL REFERENCES tenants,
    vendor       text NOT NULL,
    webhook_id   text NOT NULL CHECK (length(webhook_id) BETWEEN 1 AND 256),
    lock_id      text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, vendor, webhook_id)
);
CREATE INDEX webhook_receipts_by_age ON webhook_receipts (tenant_id, received_at);

-- The ingress resolves a vendor's lock id to the directory's lock for every webhook.
CREATE INDEX locks_by_vendor_lock ON locks (tenant_id, vendor, vendor_lock_id);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_receipts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''app.tenant_id'', true)) '
            'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
    END LOOP;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO lis_app;
-- Receipts are never updated: an accepted webhook id stays accepted until it ages out.
GRANT SELECT, INSERT, DELETE ON webhook_receipts TO lis_app;
