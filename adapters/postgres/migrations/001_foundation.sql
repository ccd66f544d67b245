-- Foundation schema. Every table carries tenant_id and is under row-level security (ENABLE + FORCE): the
-- application role sees only the rows of the tenant set for its transaction (SET LOCAL app.tenant_id).

CREATE TABLE tenants (
    tenant_id   text PRIMARY KEY,
    region      text NOT NULL,
    name        text NOT NULL
);

CREATE TABLE locks (
    tenant_id       text NOT NULL REFERENCES tenants,
    lock_id         text NOT NULL,
    property_id     text NOT NULL,
    region          text NOT NULL,
    vendor          text NOT NULL CHECK (vendor IN ('ttlock', 'salto', 'wiegand')),
    vendor_lock_id  text NOT NULL,
    gateway_id      text,
    room            text,
    area            text,
    guest_access    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, lock_id),
    CHECK ((room IS NULL) <> (area IS NULL))
);
CREATE INDEX locks_by_room ON locks (tenant_id, property_id, room);

-- Vendor account configuration (client secrets, passwords), envelope-encrypted: a fresh data key per secret,
-- wrapped by the tenant's key-encryption key; the associated data binds tenant, property and vendor.
CREATE TABLE vendor_accounts (
    tenant_id    text NOT NULL REFERENCES tenants,
    property_id  text NOT NULL,
    vendor       text NOT NULL,
    sealed       bytea NOT NULL,
    PRIMARY KEY (tenant_id, property_id, vendor)
);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'locks', 'vendor_accounts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''app.tenant_id'', true)) '
            'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO lis_app', t);
    END LOOP;
END $$;
