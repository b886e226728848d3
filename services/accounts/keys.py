"""Secrets handed out once (a link's token, a session id, an access token) and the
digest kept in their place.

A key carries 256 random bits, so an unsalted SHA-256 is enough to store it:
nobody can search that space, and a lookup by digest stays one indexed read.
Passwords, which people choose, are hashed with Argon2 instead (passwords.py).
"""
from __future__ import annotations

import hashlib
import secrets

__all__ = ["new_key", "digest"]


def new_key(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
