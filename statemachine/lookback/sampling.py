"""Drawing a look-back sample that anyone can re-draw (docs/domain.md §9.2).

Each candidate item gets a key from the round's seed and the item's number
alone: `u = H(seed, number)` uniform in (0, 1), and with a risk weight `w`
the key is `u ** (1 / w)` (Efraimidis–Spirakis weighted sampling without
replacement). A unit's sample is its `k` largest keys. The key does not
depend on the order the database returns rows in, nor on the other items,
so the published seed and candidate list reproduce the sample exactly, and
a hand-picked item would show as a key that should not have made the cut.

Risk weighting (optional) favours items that deserve a second look:
- closed unusually fast: in under `fast_ratio` × the median time to close
  of all candidates in the round;
- thin evidence: the recorded verifiable result (可验证成果) is missing or
  shorter than `thin_evidence_chars` characters;
- the unit reports 100 %: none of its items of these kinds is still open.
"""
from __future__ import annotations

import hashlib
import math
import statistics
from dataclasses import dataclass
from typing import Iterable, NamedTuple, Sequence

__all__ = ["Candidate", "RiskRules", "sample_key", "per_unit_quota", "draw", "risk_weights",
           "risk_weight", "fast_threshold", "digest"]


class Candidate(NamedTuple):
    """An item that may be drawn (a tuple: a round draws from a million of them)."""

    number: str
    unit: int
    days_to_close: float | None = None
    evidence_chars: int = 0
    weight: float = 1.0


@dataclass(frozen=True)
class RiskRules:
    fast: float = 3.0            # weight factor for an unusually fast closure
    fast_ratio: float = 0.25     # "fast": under this share of the round's median time to close
    thin_evidence: float = 3.0   # weight factor for thin evidence
    thin_evidence_chars: int = 10
    full_unit: float = 2.0       # weight factor when the unit reports 100 %


def sample_key(seed: int, number: str, weight: float = 1.0) -> float:
    """The item's key: deterministic in (seed, number, weight), larger is drawn first."""
    h = hashlib.blake2b(f"{seed}:{number}".encode(), digest_size=8).digest()
    # 52 bits: (k + 0.5) / 2**52 is exact in a float and strictly inside (0, 1)
    # (with 53 bits the largest value would round up to 1.0)
    u = ((int.from_bytes(h, "big") >> 12) + 0.5) / 2.0 ** 52
    return u if weight == 1.0 else math.exp(math.log(u) / weight)


def per_unit_quota(n: int, *, count: int | None, share: float | None, minimum: int) -> int:
    """How many of a unit's `n` candidates to draw: a count or a share, at least
    `minimum`, never more than there are."""
    if n <= 0:
        return 0
    if count is not None:
        want = count
    elif share is not None:
        want = math.ceil(share * n - 1e-9)
    else:
        want = n
    return min(n, max(want, minimum))


def risk_weight(days_to_close: float | None, evidence_chars: int, full_unit: bool, *,
                fast_below: float | None, rules: RiskRules = RiskRules()) -> float:
    """One item's weight: the factors of the rules it meets, multiplied."""
    w = 1.0
    if fast_below is not None and days_to_close is not None and days_to_close < fast_below:
        w *= rules.fast
    if evidence_chars < rules.thin_evidence_chars:
        w *= rules.thin_evidence
    if full_unit:
        w *= rules.full_unit
    return w


def fast_threshold(median_days: float | None, rules: RiskRules = RiskRules()) -> float | None:
    """Closing in under this many days is "unusually fast"."""
    return None if median_days is None else rules.fast_ratio * median_days


def risk_weights(candidates: Sequence[Candidate], *, full_units: set[int],
                 rules: RiskRules = RiskRules()) -> list[Candidate]:
    """The candidates with their weights set by `rules`."""
    durations = [c.days_to_close for c in candidates if c.days_to_close is not None]
    fast_below = fast_threshold(statistics.median(durations) if durations else None, rules)
    return [Candidate(c.number, c.unit, c.days_to_close, c.evidence_chars,
                      risk_weight(c.days_to_close, c.evidence_chars, c.unit in full_units,
                                  fast_below=fast_below, rules=rules))
            for c in candidates]


def draw(seed: int, candidates: Iterable[Candidate], *, count: int | None = None,
         share: float | None = None, minimum: int = 1) -> dict[int, list[str]]:
    """unit → the numbers drawn from its candidates (largest keys first)."""
    by_unit: dict[int, list[tuple[float, str]]] = {}
    for c in candidates:
        by_unit.setdefault(c.unit, []).append((sample_key(seed, c.number, c.weight), c.number))
    out: dict[int, list[str]] = {}
    for unit, keyed in by_unit.items():
        k = per_unit_quota(len(keyed), count=count, share=share, minimum=minimum)
        keyed.sort(key=lambda kv: (-kv[0], kv[1]))
        out[unit] = [number for _, number in keyed[:k]]
    return out


def digest(numbers: Iterable[str]) -> str:
    """A fingerprint of a set of item numbers, independent of their order."""
    h = hashlib.sha256()
    for n in sorted(numbers):
        h.update(n.encode())
        h.update(b"\n")
    return h.hexdigest()

