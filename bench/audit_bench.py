"""Audit-loop speed as ratios against plain-database baselines run in the same process.

  nice -n 10 env PYTHONPATH=src python bench/audit_bench.py [--findings 5000] [--top 2000] [--actions 200] [--pg URL]

1. plan creation (read findings, de-duplicate, prioritise, insert tasks, chain one event per task)
   vs. a plain executemany INSERT of the same rows into a bare table;
2. one workflow action per transaction (assign: role/state/segregation checks, versioned UPDATE, event)
   vs. one plain single-row UPDATE + COMMIT per transaction;
3. verify-log (re-hash the whole chain) vs. a plain SELECT of every event row.
Writes the ``## Issue 7 — audit loop`` block of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from gridaudit.audit import actions, trail
from gridaudit.audit.plans import create_plan
from gridaudit.audit.store import open_store
from gridaudit.audit.users import add_user
from gridaudit.findings import findings_table

BENCH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Issue 7 — audit loop"


def findings(n: int):
    rows = [
        dict(
            rule_id=f"rule_{i % 17}",
            family="theft" if i % 3 else "reading",
            severity="high",
            entity_type="customer",
            entity_id=f"C{i:07d}",
            period="2025-06",
            score=(i % 997) / 997,
            kwh_at_stake=float(i % 500),
            yuan_at_stake=float(i % 311),
            responsible_staff_id=f"S{i % 50}",
            evidence={"unit_id": f"U{i % 7}"},
            run_id="bench",
        )
        for i in range(n)
    ]
    return findings_table(rows)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_store(url: str, n: int, top: int, n_actions: int) -> dict[str, float]:
    st = open_store(url, Path(tempfile.mkdtemp()) / "att", create=True)
    table = findings(n)
    with st.transaction() as s:
        add_user(s, None, "admin", "A", "admin")
    with st.transaction() as s:
        add_user(s, "admin", "lead", "L", "audit_lead")
        add_user(s, "admin", "zhang", "Z", "inspector")
    with st.engine.begin() as con:
        con.execute(
            text(
                "CREATE TABLE bench_plain (id integer primary key, finding_id varchar(64), entity_id "
                "varchar(64), priority float, state varchar(16), version integer)"
            )
        )
    ids: list[int] = []

    def plan() -> None:
        with st.transaction() as s:
            ids.extend(t.task_id for t in create_plan(s, "lead", "2025-07", table, top=top).tasks)

    def plain_insert() -> None:
        rows = [
            {"i": i + 1, "f": r["finding_id"], "e": r["entity_id"], "p": float(i)}
            for i, r in enumerate(table.slice(0, top).to_pylist())
        ]
        with st.engine.begin() as con:
            con.execute(
                text(
                    "INSERT INTO bench_plain (id, finding_id, entity_id, priority, state, version) "
                    "VALUES (:i, :f, :e, :p, 'new', 1)"
                ),
                rows,
            )

    out = {"plan": timed(plan), "plan_base": timed(plain_insert)}

    def act() -> None:
        for tid in ids[:n_actions]:
            with st.transaction() as s:
                actions.assign(s, "lead", tid, "zhang")

    def plain_updates() -> None:
        for i in range(1, n_actions + 1):
            with st.engine.begin() as con:
                con.execute(
                    text(
                        "UPDATE bench_plain SET state = 'assigned', version = version + 1 WHERE id = :i AND version = 1"
                    ),
                    {"i": i},
                )

    out["actions"], out["actions_base"] = timed(act), timed(plain_updates)

    def verify() -> None:
        with st.transaction() as s:
            n_events, problems = trail.verify_log(s)
            assert not problems
            out["events"] = n_events

    def plain_select() -> None:
        with st.engine.connect() as con:
            con.execute(text("SELECT * FROM audit_events ORDER BY event_id")).fetchall()

    out["verify"], out["verify_base"] = timed(verify), timed(plain_select)
    st.dispose()
    return out


def fresh_pg(url: str) -> str:
    import uuid

    import psycopg

    schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    return f"{url}?options=-csearch_path%3D{schema}", schema


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=5000)
    ap.add_argument("--top", type=int, default=2000)
    ap.add_argument("--actions", type=int, default=200)
    ap.add_argument("--pg", default=None, help="PostgreSQL URL (a throw-away schema is created and dropped)")
    a = ap.parse_args()
    results = {"SQLite": bench_store(str(Path(tempfile.mkdtemp()) / "cases.db"), a.findings, a.top, a.actions)}
    if a.pg:
        import psycopg

        url, schema = fresh_pg(a.pg)
        try:
            results["PostgreSQL"] = bench_store(url, a.findings, a.top, a.actions)
        finally:
            with psycopg.connect(a.pg, autocommit=True) as con:
                con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    lines = [
        f"`python bench/audit_bench.py --findings {a.findings} --top {a.top} --actions {a.actions}"
        f"{' --pg …' if a.pg else ''}` (2-core machine shared with other jobs; ratios, same process).",
        "",
        "| store | plan: findings → tasks (+events) | ratio vs plain INSERT | one action per transaction "
        "| ratio vs plain UPDATE+COMMIT | verify-log | ratio vs plain SELECT |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {a.findings:,} → {a.top:,} in {r['plan']:.2f} s | {r['plan'] / r['plan_base']:.1f}× "
            f"| {r['actions'] / a.actions * 1000:.1f} ms | {r['actions'] / r['actions_base']:.1f}× "
            f"| {r['events']:,} events in {r['verify']:.2f} s | {r['verify'] / r['verify_base']:.1f}× |"
        )
    block = "\n".join(lines)
    print(block)
    text_ = BENCH.read_text("utf-8") if BENCH.exists() else "# Benchmarks\n"
    if SECTION in text_:
        head, rest = text_.split(SECTION, 1)
        nxt = rest.find("\n## ")
        text_ = head + SECTION + "\n\n" + block + "\n" + (rest[nxt:] if nxt != -1 else "")
    else:
        text_ = text_.rstrip() + f"\n\n{SECTION}\n\n{block}\n"
    BENCH.write_text(text_, "utf-8")


if __name__ == "__main__":
    main()
