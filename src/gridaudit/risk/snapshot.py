"""A snapshot: a customer as of a date, the unit a feature row describes (scoring, training, augmentation).

Its own module so that :mod:`gridaudit.risk.features` and :mod:`gridaudit.risk.augment` both use it
without importing each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Snapshot:
    """Where a feature row stands: a customer as of a date."""

    customer_id: str
    as_of: date
    source: str | None = None
    """For an augmented copy, the real customer it was made from (its events, rule hits, interval data)."""
