"""PostgreSQL repositories: the lock directory, sealed vendor accounts, and (later) the audit log."""
