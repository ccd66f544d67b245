-- The audit tables belong to lis_audit_owner, a role nobody logs in as, not to the login role that runs migrations:
-- that role owns every other table and could otherwise `ALTER TABLE … DISABLE TRIGGER` the append-only triggers.
-- Now only a superuser can (and `lis audit verify` names any leaf changed that way). Run as a superuser; where the
-- migration role is not one (a managed database), a DBA creates lis_audit_owner and lets the migration role SET ROLE
-- to it for this migration only (docs/AUDIT.md).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lis_audit_owner') THEN
        CREATE ROLE lis_audit_owner NOLOGIN NOINHERIT;
    END IF;
END $$;
ALTER TABLE lock_audit OWNER TO lis_audit_owner;
ALTER TABLE lock_audit_nodes OWNER TO lis_audit_owner;
