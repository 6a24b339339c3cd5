"""Jobs of the imports (app/jobs): one run, and the periodic recovery of stopped runs."""

from __future__ import annotations

from app import jobs
from app.imports import services


def run_import(run_id: int) -> str | None:
    return services.run_import(run_id)


def recover_imports() -> int:
    """Withdraw what a killed worker's run published; idempotent, so every few minutes."""
    return services.recover()


jobs.every("imports-recover", "app.imports.tasks:recover_imports", minutes=5)
