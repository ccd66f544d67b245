"""A credential's label on the lock: our prefix and 16 hex digits, the shape anti-entropy recognises as ours."""

from __future__ import annotations

import re

from app.domain.credential import credential_label


def test_a_credential_label_is_our_prefix_and_sixteen_hex_digits() -> None:
    assert re.fullmatch(r"lis-[0-9a-f]{16}", credential_label("t1/eu-west/door-101|t1/p1/R1|1"))
