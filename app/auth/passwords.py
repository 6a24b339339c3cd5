"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12


def hasher() -> PasswordHasher:
    cfg = current_app.config
    key = ("caunoi_hasher", cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"])
    ext = current_app.extensions
    if key not in ext:
        ext[key] = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"],
            memory_cost=cfg["ARGON2_MEMORY_COST"],
            parallelism=cfg["ARGON2_PARALLELISM"],
        )
    return ext[key]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_verification_time() -> None:
    """Spend the time of one verification, so an unknown username answers like a wrong password."""
    ext = current_app.extensions
    if "caunoi_dummy_hash" not in ext:
        ext["caunoi_dummy_hash"] = hash_password("dummy password for timing")
    verify_password(ext["caunoi_dummy_hash"], "not the password")


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("app.auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def password_problems(password: str, username: str = "") -> list[str]:
    """Reasons a new password is refused, in the user's language (empty when acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(str(_l("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_LENGTH)))
    if password.casefold() in common_passwords():
        problems.append(str(_l("Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác.")))
    if username and username.casefold() in password.casefold():
        problems.append(str(_l("Mật khẩu không được chứa tên đăng nhập.")))
    return problems
