"""Passwords: the one rule a new password must pass, and Argon2id hashing."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_LENGTH", "MAX_LENGTH", "password_problem", "hash_password", "check_password",
           "waste_time"]

MIN_LENGTH = 12
# Argon2 costs the same for any length, but the request that carries a megabyte does not
MAX_LENGTH = 256

# argon2-cffi's defaults (RFC 9106's second recommendation: Argon2id, 64 MiB, 3 passes)
_HASHER = PasswordHasher()


def _classes(password: str) -> set[str]:
    kinds = set()
    for ch in password:
        cat = unicodedata.category(ch)
        kinds.add("lower" if cat == "Ll" else "upper" if cat == "Lu" else
                  "digit" if cat == "Nd" else "other")
    return kinds


def password_problem(password: str, *, username: str) -> str | None:
    """None when `password` may be set for `username`, else what is wrong with it (one line)."""
    if len(password) < MIN_LENGTH:
        return f"密码至少 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码至多 {MAX_LENGTH} 个字符"
    if password != password.strip():
        return "密码不能以空白开头或结尾"
    if len(_classes(password)) < 2:
        return "密码须混合至少两类字符（小写字母、大写字母、数字、其他符号）"
    if len(set(password)) < 4:
        return "密码不能由少数几个字符反复组成"
    if username and username.casefold() in password.casefold():
        return "密码不能包含用户名"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a fresh hash to store when the parameters have changed since)."""
    if not stored:
        waste_time(password)
        return False, None
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (_HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)


@lru_cache(maxsize=1)
def _dummy() -> str:
    return _HASHER.hash("rectify: nobody has this password")


def waste_time(password: str) -> None:
    """Take as long as checking a real password: an unknown username must not answer
    faster than a known one."""
    try:
        _HASHER.verify(_dummy(), password)
    except VerificationError:
        pass
