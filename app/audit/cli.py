"""``lis audit …`` and ``lis dr …``: proofs, verification and the disaster-recovery drill."""

from __future__ import annotations

import typer

audit_cli = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log: checkpoints, proofs, verify.")
dr_cli = typer.Typer(no_args_is_help=True, help="Disaster recovery: PostgreSQL point-in-time restore drill.")
