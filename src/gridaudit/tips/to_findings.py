"""Matched tips as findings (family ``tip``, analyzer ``tips``) in the dataset's findings store.

Each publish appends one run holding every matched tip of the case store (the latest run of an analyzer is
what plans read), so re-publishing the same tips gives the same findings. A finding is one channel, customer
and month (``intake.tip_finding_id``): rule ``tip_<channel>``, so its hit rate is learned per channel like a
rule's (``audit.hitrates``). Its evidence links the other findings of the same customer in the latest runs of
the other analyzers, and its ¥ at stake is the largest of theirs (none: money unknown, the severity floor of
``audit.priority`` applies); its score is the number of linked findings, so among the tips of one channel the
corroborated ones rank first (``priority.score_percentiles`` is per rule). Evidence holds the tip ids, channel,
date and what was reported — never the reporter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.findings.shape import findings_table
from gridaudit.findings.store import RunInfo, RunProvenance, append_run, now_utc, read_runs, select_runs
from gridaudit.tips.models import Tip
from gridaudit.tips.subjects import rule_id

ANALYZER = "tips"
FAMILY = "tip"
SEVERITY = "high"
MAX_LINKED = 20
SUMMARY_CHARS = 500


def related_findings(dataset_dir: str | Path, customers: set[str]) -> dict[str, list[dict[str, Any]]]:
    """customer_id → the findings about that customer in the latest run of every other analyzer."""
    if not customers:
        return {}
    runs = [r for r in select_runs(dataset_dir) if r.analyzer != ANALYZER]
    cols = ["finding_id", "rule_id", "family", "severity", "entity_type", "entity_id", "period", "yuan_at_stake"]
    table = read_runs(runs, cols)
    if table.num_rows == 0:
        return {}
    import pyarrow.compute as pc

    mask = pc.and_(
        pc.equal(table.column("entity_type"), "customer"),
        pc.is_in(table.column("entity_id"), pa.array(sorted(customers))),
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for r in table.filter(mask).to_pylist():
        out.setdefault(r["entity_id"], []).append(r)
    for v in out.values():
        v.sort(key=lambda r: (-(r["yuan_at_stake"] or 0.0), r["finding_id"]))
    return out


def customer_units(dataset_dir: str | Path, customers: set[str]) -> dict[str, str]:
    """customer_id → unit_id from the dataset."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    if not customers or not ds.has("customers"):
        return {}
    eng = open_engine(ds)
    try:
        rows = eng.query(
            "select cast(customer_id as varchar) c, cast(unit_id as varchar) u from customers "
            "where cast(customer_id as varchar) in (select unnest($ids))",
            {"ids": sorted(customers)},
        ).to_pylist()
    finally:
        eng.close()
    return {r["c"]: r["u"] for r in rows}


def tip_findings(tips: list[Tip], dataset_dir: str | Path) -> pa.Table:
    """The findings of matched ``tips`` (see the module docstring)."""
    matched = sorted((t for t in tips if t.status == "matched" and t.finding_id), key=lambda t: t.tip_id)
    customers = {str(t.customer_id) for t in matched}
    related = related_findings(dataset_dir, customers)
    units = customer_units(dataset_dir, customers)
    groups: dict[str, list[Tip]] = {}
    for t in matched:
        groups.setdefault(str(t.finding_id), []).append(t)
    rows = []
    for fid, group in sorted(groups.items()):
        first = group[0]
        cust = str(first.customer_id)
        linked = related.get(cust, [])
        yuans = [r["yuan_at_stake"] for r in linked if r["yuan_at_stake"] is not None]
        evidence: dict[str, Any] = {
            "tip_ids": [t.tip_id for t in group],
            "channel": first.channel,
            "received_on": first.received_on.isoformat(),
            "subject_kind": first.subject_kind,
            "what": first.description[:SUMMARY_CHARS],
            "linked_findings": [
                {k: r[k] for k in ("finding_id", "rule_id", "family", "severity", "period", "yuan_at_stake")}
                for r in linked[:MAX_LINKED]
            ],
            "linked_count": len(linked),
        }
        if units.get(cust):
            evidence["unit_id"] = units[cust]
        rows.append(
            dict(
                finding_id=fid,
                rule_id=rule_id(first.channel),
                family=FAMILY,
                severity=SEVERITY,
                entity_type="customer",
                entity_id=cust,
                period=first.received_on.strftime("%Y-%m"),
                score=float(len(linked)),  # corroboration: ranks a tip within its channel (priority)
                kwh_at_stake=None,
                yuan_at_stake=max(yuans) if yuans else None,
                responsible_staff_id=None,
                evidence=evidence,
                run_id=None,
            )
        )
    return findings_table(rows)


def publish(session: Any, dataset_dir: str | Path) -> RunInfo | None:
    """Append the findings of every matched tip in the store as a new ``tips`` run (None: no tip is matched)."""
    from sqlalchemy import select

    started = now_utc()
    tips = list(session.execute(select(Tip).where(Tip.status == "matched")).scalars())
    if not tips:
        return None
    table = tip_findings(tips, dataset_dir)
    prov = RunProvenance(
        analyzer=ANALYZER,
        started_at=started,
        params={"severity": SEVERITY, "max_linked": MAX_LINKED},
        rule_status=[
            {"rule_id": rule_id(c), "family": FAMILY, "status": "ok", "hits": n}
            for c, n in sorted(_by_channel(table).items())
        ],
        extra={"tips": len(tips)},
    )
    return append_run(dataset_dir, table, prov)


def _by_channel(table: pa.Table) -> dict[str, int]:
    out: dict[str, int] = {}
    for rid in table.column("rule_id").to_pylist():
        ch = rid.removeprefix("tip_")
        out[ch] = out.get(ch, 0) + 1
    return out
