-- Tamper-evident audit log: one RFC 6962 Merkle tree per tenant. ``lock_audit`` holds the leaves (the canonical
-- bytes of each audit record, so verification can recompute every hash); ``lock_audit_nodes`` holds every complete
-- subtree hash written when its last leaf was appended, so roots and proofs read O(log^2 n) rows at any size.
--
-- Append-only, enforced twice: lis_app is granted SELECT and INSERT only, and a trigger enabled ALWAYS (it fires
-- even under session_replication_role = replica) refuses UPDATE, DELETE and TRUNCATE for every role, the owner
-- included. Only a superuser who disables the trigger can change a row, and `lis audit verify` then names the leaf.

CREATE TABLE lock_audit (
    tenant_id   text   NOT NULL,
    leaf_index  bigint NOT NULL CHECK (leaf_index >= 0),
    record_id   text   NOT NULL,
    leaf        bytea  NOT NULL,
    PRIMARY KEY (tenant_id, leaf_index),
    -- Exactly once per record id: a replayed record is never a second leaf.
    UNIQUE (tenant_id, record_id)
);

CREATE TABLE lock_audit_nodes (
    tenant_id   text     NOT NULL,
    level       smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    node_index  bigint   NOT NULL CHECK (node_index >= 0),
    hash        bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, level, node_index)
);

CREATE FUNCTION lock_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the audit log is append-only', TG_OP, TG_TABLE_NAME;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['lock_audit', 'lock_audit_nodes'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_setting(''app.tenant_id'', true)) '
            'WITH CHECK (tenant_id = current_setting(''app.tenant_id'', true))', t);
        -- Statement level, so a statement matching no row is refused as well.
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION lock_audit_refuse_change()', t || '_append_only', t);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER %I', t, t || '_append_only');
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT, INSERT ON %I TO lis_app', t);
    END LOOP;
END $$;

-- The checkpointer publishes one checkpoint per tenant, but row-level security hides every tenant but the one set
-- for the transaction. This function, owned by the migrating superuser, reveals tenant ids only, never a row.
-- A loose index scan (one index probe per tenant) keeps it cheap at millions of leaves.
CREATE FUNCTION lock_audit_tenants() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH RECURSIVE seen(tenant_id) AS (
        (SELECT tenant_id FROM public.lock_audit ORDER BY tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT a.tenant_id FROM public.lock_audit a WHERE a.tenant_id > seen.tenant_id
                ORDER BY a.tenant_id LIMIT 1)
        FROM seen WHERE seen.tenant_id IS NOT NULL
    )
    SELECT tenant_id FROM seen WHERE tenant_id IS NOT NULL
$$;
REVOKE ALL ON FUNCTION lock_audit_tenants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION lock_audit_tenants() TO lis_app;
