"""Secrets in URLs, masked wherever a URL is shown or stored.

A webhook URL can carry a password (`https://user:pass@host/…`) and robot
URLs carry their token in the query (`?access_token=…`, `?key=…`); a
database URL carries its password. Such a URL reaches error messages, the
outbox's `last_error`, command output and Prefect artifacts. Each of them
shows `masked_url(url)`, and a free text that may quote a URL (an
exception's message) goes through `mask_secrets` first.

    https://robot:s3cret@hooks.example/send?access_token=abc#x
    → https://robot@hooks.example/send

The scheme, user name, host, port and path stay: they are what an operator
needs to tell which setting is wrong; the password, the query and the
fragment go.
"""
from __future__ import annotations

import re

__all__ = ["masked_url", "mask_secrets"]

# a URL inside a text: a scheme, ://, then anything up to white space or a quote
_URL_IN_TEXT = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>`]+""")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.S)
# what follows the user information: a host name, IPv4 or [IPv6], maybe a port
# (loosely: a bad port or bracket must not turn the user information back into a host)
_HOST = re.compile(r"^(\[[^\]/?#@\s]*\]?|[\w.%-]*)(:[^/?#@\s]*)?(?=[/?#]|$)")


def masked_url(url: str) -> str:
    """`url` without its password, query and fragment.

    Parsed by hand rather than by urllib: a password with '/', '?' or '#' not
    percent-encoded makes urlsplit take part of it for the host or path. The
    user information ends at the last '@' that a host follows; of it only a
    plain user name is kept."""
    m = _SCHEME.match(url)
    scheme, rest = m.groups() if m else ("", url)
    user = ""
    for at in reversed([i for i, c in enumerate(rest) if c == "@"]):
        if _HOST.match(rest[at + 1:]):
            name = rest[:at].partition(":")[0]
            user = f"{name}@" if re.fullmatch(r"[^/?#\s]+", name) else ""
            rest = rest[at + 1:]
            break
    return f"{scheme}{user}{re.split(r'[?#]', rest, maxsplit=1)[0]}"


def mask_secrets(text: str) -> str:
    """`text` with every URL in it masked (masked_url)."""
    return _URL_IN_TEXT.sub(lambda m: masked_url(m.group()), text)
