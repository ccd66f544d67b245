-- Test locks for the synthetic vendor checks (lis synthetics): a canary credential is issued and revoked on them on a
-- schedule. A synthetic lock serves no room and gives no guest access, so no stay is ever given a key to it.
ALTER TABLE locks
    ADD COLUMN synthetic boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT synthetic_lock_serves_no_guest CHECK (NOT synthetic OR (room IS NULL AND NOT guest_access));
