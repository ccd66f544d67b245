"""Secrets at rest, signatures and log redaction."""
