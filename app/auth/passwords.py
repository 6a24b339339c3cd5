"""Password hashing (argon2id) and the password policy.

The policy follows ASVS 5.0 (V6.2): at least 12 characters, anything printable allowed (no
composition rules, no forced rotation), a list of common passwords refused, and no password that
zxcvbn, taught Vietnamese, finds guessable (app/auth/strength.py).
"""

from __future__ import annotations

import functools
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.strength import fold, weak_patterns

MIN_LENGTH = 12
MAX_LENGTH = 256


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
    """The refused list (app/auth/data/common_passwords.txt; '#' lines are comments)."""
    text = resources.files("app.auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        fold(line.strip())
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    folded = fold(password)
    # "matkhau123456 " or "  password1234" are the same guess.
    return folded in common_passwords() or folded.strip() in common_passwords()


# What zxcvbn found, said the way a user can act on it.
PATTERN_WORDS = {
    "dictionary": _l("từ, tên hoặc mật khẩu hay gặp (như “mật khẩu”, tên người, tên tỉnh)"),
    "spatial": _l("các phím liền nhau (như “qwerty”)"),
    "repeat": _l("ký tự hoặc cụm lặp lại"),
    "sequence": _l("dãy liên tiếp (như “123456”, “abcd”)"),
    "regex": _l("năm"),
    "date": _l("ngày tháng"),
}


def password_problems(password: str, username: str = "", display_name: str = "") -> list[str]:
    """Reasons a new password is refused, in the user's language (empty when acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_LENGTH))
    elif len(password) > MAX_LENGTH:
        problems.append(_("Mật khẩu không được dài quá %(n)d ký tự.", n=MAX_LENGTH))
    if is_common(password):
        problems.append(_("Mật khẩu này quá phổ biến, dễ bị đoán. Hãy chọn mật khẩu khác."))
    elif len(password) >= MIN_LENGTH:
        weak = weak_patterns(password, (username, display_name))
        if weak is not None:
            parts = "; ".join(str(PATTERN_WORDS[p]) for p in weak if p in PATTERN_WORDS)
            problems.append(
                _(
                    "Mật khẩu này dễ đoán: nó ghép từ %(parts)s. Hãy dùng một câu dài hơn, "
                    "gồm những từ ít gặp.",
                    parts=parts or _("những mẫu quen thuộc"),
                )
            )
    if username and fold(username) in fold(password):
        problems.append(_("Mật khẩu không được chứa tên đăng nhập."))
    if password and len(set(password)) == 1:
        problems.append(_("Mật khẩu không được chỉ lặp lại một ký tự."))
    return problems
