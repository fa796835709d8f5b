"""Monthly statistics per unit, kept by counters (rule: maintained incrementally, never by scanning).

Time to first answer goes into a fixed histogram of minute buckets; the median and 90th percentile are read
from it, to the resolution of a bucket (upper edge of the bucket holding the quantile).
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Any

# Upper edges in minutes: 15 min, 30 min, 1 h, 2 h, 4 h, 8 h, 1 d, 2 d, 3 d, 5 d, 7 d, 14 d, 30 d; then more.
BUCKET_EDGES = (15, 30, 60, 120, 240, 480, 1440, 2880, 4320, 7200, 10080, 20160, 43200)
OVERFLOW = "first_answer_over"


def bucket_of(minutes: float) -> str:
    index = bisect.bisect_left(BUCKET_EDGES, minutes)
    return OVERFLOW if index == len(BUCKET_EDGES) else f"first_answer_le_{BUCKET_EDGES[index]}"


def month_of(instant: datetime) -> str:
    return instant.strftime("%Y-%m")


def quantile_minutes(counters: dict[str, Any], q: float) -> int | None:
    """The bucket edge (minutes) at or below which a share `q` of first answers fell; None if none."""
    counts = [int(counters.get(f"first_answer_le_{edge}", 0)) for edge in BUCKET_EDGES]
    over = int(counters.get(OVERFLOW, 0))
    total = sum(counts) + over
    if total == 0:
        return None
    needed = q * total
    running = 0
    for edge, count in zip(BUCKET_EDGES, counts, strict=True):
        running += count
        if running >= needed:
            return edge
    return None  # beyond the last edge: "more than 30 days"


def report(unit_hsa_id: str, month: str, counters: dict[str, Any]) -> dict[str, Any]:
    answered = sum(int(v) for k, v in counters.items() if k.startswith("first_answer_"))
    return {
        "care_unit_hsa_id": unit_hsa_id,
        "month": month,
        "incoming": int(counters.get("incoming", 0)),
        "closed": int(counters.get("closed", 0)),
        "first_answers": answered,
        "first_answer_minutes": {
            "median": quantile_minutes(counters, 0.5),
            "p90": quantile_minutes(counters, 0.9),
            "resolution": "upper edge of a histogram bucket",
        },
    }
