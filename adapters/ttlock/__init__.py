"""TTLock Open Platform (cloud API v3): adapter, pure mapping, errcode table, callback parsing and sandbox."""
