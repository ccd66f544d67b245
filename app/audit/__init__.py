"""Tamper-evident audit trail: RFC 6962 Merkle maths and C2SP checkpoints (pure), verification, anchors, the DR drill.

``merkle``, ``checkpoint``, ``leaves`` and ``verify``'s :class:`~app.audit.verify.TreeCheck` are pure; ``anchors``,
``recovery``, ``drill`` and ``cli`` do the I/O around them. docs/AUDIT.md describes the whole design.
"""
