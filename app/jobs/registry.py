"""Periodic jobs declared by the modules (`jobs.every`), and how a job's function is found."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Periodic:
    name: str
    func_path: str
    seconds: int
    args: tuple = field(default_factory=tuple)


_PERIODIC: dict[str, Periodic] = {}


def every(
    name: str,
    func_path: str,
    *args,
    seconds: int = 0,
    minutes: int = 0,
    hours: int = 0,
) -> Periodic:
    """Declare that `func_path(*args)` runs every interval (idempotent jobs only)."""
    interval = seconds + 60 * minutes + 3600 * hours
    if interval < 1:
        raise ValueError("a periodic job needs an interval of at least one second")
    resolve(func_path)  # fail at start-up, not at 03:00
    job = Periodic(name, func_path, interval, tuple(args))
    _PERIODIC[name] = job
    return job


def periodic_jobs() -> list[Periodic]:
    return sorted(_PERIODIC.values(), key=lambda p: p.name)


def resolve(func_path: str) -> Callable:
    """'package.module:function' -> the function (only our own package's, or the tests')."""
    module_name, sep, attr = func_path.partition(":")
    if not sep or not attr or not module_name.startswith(("app.", "tests.")):
        raise ValueError(f"job function must be 'app.module:function', not {func_path!r}")
    func = getattr(importlib.import_module(module_name), attr, None)
    if not callable(func):
        raise ValueError(f"no job function {func_path!r}")
    return func
