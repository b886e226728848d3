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

__all__ = ["masked_url", "mask_secrets", "masked_phone"]

# a URL inside a text: a scheme, ://, then anything up to white space (a password may
# hold a quote); the punctuation that ends it stays the text's ("…/send: HTTP 500")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*?(?=[:;,.!?)\]}'\"]*(?:\s|$))")
# and one without a scheme: user:password@… as a word of its own ('cannot reach robot:pw@10.0.0.1/x')
_BARE_URL_IN_TEXT = re.compile(r"(?<!\S)[\w.~-]+:(?!//)\S*@\S*?(?=[:;,.!?)\]}'\"]*(?:\s|$))")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.S)
# what follows the user information: a host name, IPv4 or [IPv6], maybe a port
# (loosely: a bad port or bracket must not turn the user information back into a host)
_HOST = re.compile(r"^(\[[^\]/?#@\s]*\]?|[\w.%-]+)(:[^/?#@\s]*)?(?=[/?#]|$)")


def masked_url(url: str) -> str:
    """`url` without its password, query and fragment.

    Parsed by hand rather than by urllib: a password with '/' or '@' not
    percent-encoded makes urlsplit take part of it for the host or the path.
    The user information ends at the last '@' that a host follows with no '?'
    or '#' before it ('user:p@ss/w@host/x'); an '@' in the query
    (`?mail=a@b`) is never taken for it. Of the user information only a plain
    user name is kept. A password with an unencoded '?' or '#' is not a
    password to an HTTP client either; the first '@' that a host follows ends it."""
    m = _SCHEME.match(url)
    scheme, rest = m.groups() if m else ("", url)
    ats = [i for i, c in enumerate(rest) if c == "@" and _HOST.match(rest[i + 1:])]
    plain = [i for i in ats if not re.search(r"[?#]", rest[:i])]
    user = ""
    if ats:
        at = plain[-1] if plain else ats[0]
        name = rest[:at].partition(":")[0]
        user = f"{name}@" if re.fullmatch(r"[^/?#@\s]+", name) else ""
        rest = rest[at + 1:]
    return f"{scheme}{user}{re.split(r'[?#]', rest, maxsplit=1)[0]}"


def mask_secrets(text: str) -> str:
    """`text` with every URL in it masked (masked_url), one without a scheme too
    when it has a `user:password@`."""
    masked = _URL_IN_TEXT.sub(lambda m: masked_url(m.group()), text)
    return _BARE_URL_IN_TEXT.sub(lambda m: masked_url(m.group()), masked)


def masked_phone(phone: str | None) -> str | None:
    """A reporter's telephone as logs and pages show it: the first three and the last four
    digits of a long number (138****5678), the last two of a short one; the rest starred.
    Only the outbox message that reaches the hotline platform carries it whole."""
    if phone is None:
        return None
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    keep = set(digits[:3] + digits[-4:]) if len(digits) >= 8 else set(digits[-2:])
    return "".join(ch if i in keep or not ch.isdigit() else "*" for i, ch in enumerate(phone))
