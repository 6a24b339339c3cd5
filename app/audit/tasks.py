"""Periodic jobs of the audit module (app/jobs): checkpoints of every shard head."""

from __future__ import annotations

from flask import current_app

from app import jobs
from app.audit.checkpoints import checkpoint_path, write_checkpoint_now
from app.crypto.keyring import keyring
from app.extensions import db

CHECKPOINT_MINUTES = 15


def write_checkpoint() -> int:
    """Append a signed checkpoint of every committed shard head to the checkpoint file (no
    audit event: nobody acts). Idempotent: a second one in a row names the same heads."""
    path = checkpoint_path(current_app)
    if not str(path):
        return 0
    checkpoint = write_checkpoint_now(db.engine, keyring().audit_key, path)
    return len(checkpoint.heads)


jobs.every("audit-checkpoint", "app.audit.tasks:write_checkpoint", minutes=CHECKPOINT_MINUTES)
