"""Sign-in cost with the production argon2id parameters, and the unknown-user path beside it.

Run by hand: .venv/bin/python benchmarks/auth_signin.py
The two paths of a refused sign-in (wrong password, unknown user) must cost about the same.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from argon2 import PasswordHasher

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config import Config  # noqa: E402

ROUNDS = 20


def main() -> None:
    ph = PasswordHasher(
        time_cost=Config.ARGON2_TIME_COST,
        memory_cost=Config.ARGON2_MEMORY_COST,
        parallelism=Config.ARGON2_PARALLELISM,
    )
    user_hash = ph.hash("correct horse battery staple")
    dummy_hash = ph.hash("dummy password for timing")

    def timed(hash_: str, password: str) -> list[float]:
        out = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            try:
                ph.verify(hash_, password)
            except Exception:
                pass
            out.append((time.perf_counter() - start) * 1000)
        return out

    right = timed(user_hash, "correct horse battery staple")
    wrong = timed(user_hash, "not the password")
    unknown = timed(dummy_hash, "not the password")
    print(
        f"argon2id t={Config.ARGON2_TIME_COST} m={Config.ARGON2_MEMORY_COST} KiB "
        f"p={Config.ARGON2_PARALLELISM}, {ROUNDS} rounds each (median / max ms):"
    )
    for name, values in (
        ("right password", right),
        ("wrong password", wrong),
        ("unknown user", unknown),
    ):
        print(f"  {name:15s} {statistics.median(values):7.1f} / {max(values):7.1f}")


if __name__ == "__main__":
    main()
