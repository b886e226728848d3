"""What `--witness` reads: a witness text file, a witness message the file-drop channel
wrote, or the drop folder (services/core/witness.py); anything else is one line."""
from __future__ import annotations

import pytest

from notifications.delivery.channels import FileDropChannel, OutboundMessage
from services.core.audit import Head
from services.core.witness import append_witness, read_witness, witness_key, witness_text
from statemachine.errors import InvalidInput

H1, H2 = Head(6, "a" * 64), Head(9, "b" * 64)


def drop(folder, campaign: str, head: Head) -> None:
    """What the delivery does with a queued witness message (the real channel)."""
    FileDropChannel(folder).send(OutboundMessage(witness_key(campaign, head), "file", "witness",
                                                 f"审计链校验码 {campaign} {head.check_code}",
                                                 witness_text(campaign, head)))


def test_a_dropped_message_and_its_folder_are_witnesses(tmp_path):
    folder = tmp_path / "drop"
    drop(folder, "smoke-2023", H1)
    drop(folder, "smoke-2023", H2)
    drop(folder, "other-2023", Head(50, "c" * 64))  # a folder shared by campaigns
    FileDropChannel(folder).send(OutboundMessage("case:1:issue:file:county-b", "file", "county-b", "通报", "正文"))
    assert read_witness(folder, campaign="smoke-2023") == {6: "a" * 64, 9: "b" * 64}
    [one] = [p for p in folder.iterdir() if "_9_" in p.name]
    assert read_witness(one, campaign="smoke-2023") == {9: "b" * 64}
    with pytest.raises(InvalidInput, match="witnesses campaign 'smoke-2023', not 'other-2023'"):
        read_witness(one, campaign="other-2023")


@pytest.mark.parametrize("content, why", [
    ('{"key": "case:1:issue:file:x", "text": "正文"}', "a dropped message but not a witness"),
    ("{not json", "neither a witness file nor a dropped message"),
    ('{"key": "audit-head:smoke-2023:1:ab", "text": "1 xyz"}', "not a witness line"),
], ids=["a notice", "broken json", "garbage in a message"])
def test_a_file_that_is_no_witness_is_one_line(tmp_path, content, why):
    p = tmp_path / "w.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=why) as e:
        read_witness(p, campaign="smoke-2023")
    assert "\n" not in str(e.value)


def test_a_folder_without_a_witness_and_appending_to_a_message_are_refused(tmp_path):
    folder = tmp_path / "drop"
    FileDropChannel(folder).send(OutboundMessage("case:1:issue:file:county-b", "file", "county-b", "通报", "正文"))
    with pytest.raises(InvalidInput, match="holds no witness message of campaign 'smoke-2023'"):
        read_witness(folder, campaign="smoke-2023")
    drop(folder, "smoke-2023", H1)
    [message] = folder.glob("audit-head_*.json")
    before = message.read_bytes()
    with pytest.raises(InvalidInput, match="is a dropped message, not a witness text file to add lines to"):
        append_witness(message, H2, campaign="smoke-2023")
    with pytest.raises(InvalidInput, match="is not a file"):
        append_witness(folder, H2, campaign="smoke-2023")
    assert message.read_bytes() == before
    text = tmp_path / "witness.txt"
    append_witness(text, H1, campaign="smoke-2023")
    assert text.read_text(encoding="ascii") == witness_text("smoke-2023", H1)  # the message's text is such a file
