"""What counts as one e-mail address in a plan (a person's, a liaison's, a leader's).

A plan's addresses become the To: of notices. One address, in the plain
form name@example.org: no display name, no list (a comma or a semicolon
would send one notice to several people), no line break or other control
character (a header injection), and a domain with a dot in it. Non-ASCII
domain labels (例子.中国) are letters like any other; the local part is ASCII,
as servers without SMTPUTF8 need it.
"""
from __future__ import annotations

import re

__all__ = ["check_email", "MAX_EMAIL_CHARS"]

MAX_EMAIL_CHARS = 254  # RFC 5321: a path of 256 octets with its angle brackets
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")


def check_email(value: str) -> str:
    """`value` when it is one address (or empty: none given), else ValueError saying why."""
    if not value:
        return value
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("an e-mail address contains a line break or another control character")
    if any(ch in value for ch in ",; ") or value.count("@") > 1:
        raise ValueError(f"'{_shown(value)}' is not one e-mail address: give one (name@example.org)")
    local, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (not at or len(value) > MAX_EMAIL_CHARS or len(local) > 64 or not _LOCAL.fullmatch(local)
            or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels) or labels[-1].isdigit()):
        raise ValueError(f"'{_shown(value)}' is not an e-mail address like name@example.org")
    return value


def _shown(value: str) -> str:
    return value if len(value) <= 80 else value[:79] + "…"
