"""Vendor adapters: each translates one lock vendor to the canonical LockPort at its boundary."""
