"""Tip-offs and rewards (举报奖励) as a source of cases beside the analyzers (docs/tips.md).

``subjects``: channels, subjects, address normalisation and the dedup key. ``matching``: a tip's subject
against the dataset's customers. ``intake``: tips entered, imported from a file or taken from ``work_orders``
rows of type ``tip_off``, matched and stored. ``to_findings``: matched tips as a findings run (family ``tip``,
analyzer ``tips``). ``privacy``: the reporter's identity, audit lead only. ``rewards``: reward setting,
proposal, second-person approval, and ``rewards_for_month`` for the monthly report. ``cli``: ``gridaudit tips``.
"""

from __future__ import annotations

from typing import Any


def rewards_for_month(session: Any, month: str) -> list[Any]:
    """The rewards of the tasks of ``month``'s plans (see ``gridaudit.tips.rewards.rewards_for_month``)."""
    from gridaudit.tips.rewards import rewards_for_month as _rewards

    return _rewards(session, month)
