"""合并: the rules on the item kept when a duplicate is merged into it.

The duplicate's own side is the clue chart's `merge` transition (any open state → merged);
the item kept is judged here: not the duplicate itself, of the same campaign, not itself
merged into a third (no chains: merge into the item it was merged into), not transferred
(移交纪检监察: the matter left the campaign). A kept item may be closed: its reporters, the
duplicate's among them, are told the outcome at once.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Kept", "merge_refusal"]


@dataclass(frozen=True)
class Kept:
    """The facts of both items that the rule looks at."""

    dup_id: int
    dup_campaign_id: int
    keep_id: int
    keep_campaign_id: int
    keep_number: str
    keep_state: str
    keep_merged_into: str | None = None  # the number of the item KEEP was merged into


def merge_refusal(k: Kept) -> str | None:
    if k.dup_id == k.keep_id:
        return "an item cannot be merged into itself"
    if k.dup_campaign_id != k.keep_campaign_id:
        return f"{k.keep_number} belongs to another campaign: only items of one campaign are merged"
    if k.keep_state == "merged":
        into = f" into {k.keep_merged_into}" if k.keep_merged_into else ""
        return f"{k.keep_number} was itself merged{into}: merge into the item it was merged into"
    if k.keep_state == "transferred":
        return f"{k.keep_number} was transferred (移交纪检监察): nothing is merged into it"
    return None
