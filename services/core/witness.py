"""A witness of the audit head kept outside the database: a text file of `seq hash` lines.

    # rectify audit witness: campaign xinzhou-2023
    41 9c0e…(64 hex digits)
    57 3f2a…

`rectify audit head --append FILE` adds the head of the moment;
`rectify audit verify --witness FILE` holds the chain against every line, so
a tail cut off behind a lowered head (possible for whoever may drop the
database's triggers) shows as the first missing record. Keep the file where
that person cannot write: another machine, a mail archive, paper.

The nightly job sends the head the same way (services/notices/audit_head.py):
an outbox message whose text is such a file, keyed `audit-head:CAMPAIGN:SEQ:…`.
What the file-drop channel writes of it (one JSON file per message, the text
in its "text") is a witness too, and so is the drop folder: `--witness` takes
a witness text file, one dropped message, or the folder, where it reads every
dropped witness message of the campaign and passes over the rest (notices,
other campaigns' heads).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from statemachine.errors import InvalidInput

from .audit import Head

__all__ = ["read_witness", "append_witness", "witness_text", "witness_key", "WITNESS_KEY_PREFIX",
           "MAX_WITNESS_BYTES", "MAX_DROPPED_FILES"]

# a line a night for centuries; a bigger file is not a witness this program wrote
MAX_WITNESS_BYTES = 16 * 1024 * 1024
MAX_DROPPED_FILES = 200_000  # a drop folder's files read at most (a message a night, many campaigns)
_HEADER = "# rectify audit witness: campaign "
_LINE = re.compile(r"(0|[1-9][0-9]{0,17}) ([0-9a-f]{64})")
WITNESS_KEY_PREFIX = "audit-head:"


def witness_key(campaign: str, head: Head) -> str:
    """The outbox key of a head's witness message: a head sent once, a changed one sent again."""
    return f"{WITNESS_KEY_PREFIX}{campaign}:{head.seq}:{head.hash[:16]}"


def witness_text(campaign: str, head: Head) -> str:
    """A witness file holding one head: the body of the nightly witness message."""
    return f"{_HEADER}{campaign}\n{head.line()}\n"


def read_witness(path: Path, *, campaign: str, name: str = "--witness") -> dict[int, str]:
    """{seq: hash} of every head the file saw (a witness text file, a dropped witness
    message, or a drop folder of them); InvalidInput naming the file and line when it
    cannot be read, is not a witness, or is another campaign's."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, campaign=campaign, name=name)
    text = _read(path, name)
    if text.lstrip().startswith("{"):
        return _parse(_message_text(text, path, name), path, campaign=campaign, name=name)
    return _parse(text, path, campaign=campaign, name=name)


def _message_text(raw: str, path: Path, name: str) -> str:
    """The witness text inside a file-drop message (notifications/delivery/channels.py)."""
    try:
        msg = json.loads(raw)
    except ValueError:
        raise InvalidInput(f"{name}: {path} is neither a witness file nor a dropped message (not JSON)") from None
    if not (isinstance(msg, dict) and str(msg.get("key", "")).startswith(WITNESS_KEY_PREFIX)
            and isinstance(msg.get("text"), str)):
        raise InvalidInput(f"{name}: {path} is a dropped message but not a witness of the audit head "
                           f"(its key does not start with '{WITNESS_KEY_PREFIX}')")
    return msg["text"]


def _read_folder(folder: Path, *, campaign: str, name: str) -> dict[int, str]:
    seen: dict[int, str] = {}
    found = 0
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
    except OSError as e:
        raise InvalidInput(f"{name}: cannot read {folder}: {e.strerror}") from None
    if len(files) > MAX_DROPPED_FILES:
        raise InvalidInput(f"{name}: {folder} holds more than {MAX_DROPPED_FILES} files: name one witness file")
    for p in files:
        if not p.name.startswith(WITNESS_KEY_PREFIX.replace(":", "_")):
            continue  # a notice or another message of the drop (its name is its safe key)
        try:
            text = _message_text(_read(p, name), p, name)
        except InvalidInput:
            continue  # not ours after all: a file someone else put there
        if _campaign_of(text) != campaign:
            continue
        for seq, hash_ in _parse(text, p, campaign=campaign, name=name).items():
            if seen.setdefault(seq, hash_) != hash_:
                raise InvalidInput(f"{name}: {p}: record {seq} has another hash in an earlier message "
                                   f"of this folder")
        found += 1
    if not found:
        raise InvalidInput(f"{name}: {folder} holds no witness message of campaign '{campaign}' "
                           f"(files {WITNESS_KEY_PREFIX.replace(':', '_')}….json, dropped by the nightly job)")
    return seen


def _campaign_of(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip().startswith(_HEADER):
            return line.strip().removeprefix(_HEADER).strip()
    return None


def _parse(text: str, path: Path, *, campaign: str, name: str) -> dict[int, str]:
    seen: dict[int, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith(_HEADER):
            other = line.removeprefix(_HEADER).strip()
            if other != campaign:
                raise InvalidInput(f"{name}: {path} witnesses campaign '{other}', not '{campaign}'")
            continue
        if not line or line.startswith("#"):
            continue
        m = _LINE.fullmatch(line)
        if not m:
            raise InvalidInput(f"{name}: {path}:{n}: not a witness line 'SEQ HASH' (the record's "
                               f"number and its 64 hex digits)")
        seq, hash_ = int(m[1]), m[2]
        if seen.setdefault(seq, hash_) != hash_:
            raise InvalidInput(f"{name}: {path}:{n}: record {seq} has two hashes in this witness")
    return seen


def append_witness(path: Path, head: Head, *, campaign: str, name: str = "--append") -> None:
    """Add the head's line (the file and its header are created on first use),
    flushed to disk: a witness that a crash loses witnesses nothing."""
    new = not path.exists() or (path.is_file() and path.stat().st_size == 0)
    if path.is_dir():
        raise InvalidInput(f"{name}: {path} is not a file")
    if not new:
        if _read(path, name).lstrip().startswith("{"):  # a line would spoil a dropped message
            raise InvalidInput(f"{name}: {path} is a dropped message, not a witness text file to add "
                               f"lines to")
        read_witness(path, campaign=campaign, name=name)  # refuse another campaign's, or garbage
    text = (f"{_HEADER}{campaign}\n" if new else "") + head.line() + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise InvalidInput(f"{name}: cannot write {path}: {e.strerror}") from None


def _read(path: Path, name: str) -> str:
    try:
        if not path.is_file():
            raise InvalidInput(f"{name}: {path} is not a file" if path.exists()
                               else f"{name}: {path} does not exist")
        if path.stat().st_size > MAX_WITNESS_BYTES:
            raise InvalidInput(f"{name}: {path} is larger than a witness ({MAX_WITNESS_BYTES} bytes)")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: {path} is not a text file") from None
    except OSError as e:
        raise InvalidInput(f"{name}: cannot read {path}: {e.strerror}") from None
