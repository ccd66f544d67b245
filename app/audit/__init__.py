"""Tamper-evident audit trail: RFC 6962 Merkle tree maths and signed C2SP checkpoints, pure and I/O-free."""
