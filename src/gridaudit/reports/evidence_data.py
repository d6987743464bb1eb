"""The data behind a finding, for its evidence pack: the customer, readings, bills, daily use with meter
events, the area's line loss and the theft-risk explanation.

Dataset tables are read through ``open_engine(dataset).query`` with bound parameters, from the dataset
version the finding's run read; the area loss and risk explanation come from the findings store (the loss
and risk runs), never recomputed here.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.evidence_model import DailySeries, Item, Table, kwh, plain, yuan

MONTHS_BEFORE = 6  # months of history shown before the finding's period
MAX_ROWS = 400  # rows per table at most (newest kept)


def header(table: str, column: str) -> Text:
    """A contract column's header: its first Chinese alias and its name."""
    from gridaudit.contract import load_contract

    col = load_contract().tables[table].columns.get(column)
    return Text(col.aliases[0] if col is not None and col.aliases else column, column)


def code_label(domain: str, code: str | None) -> str:
    """``中文 code`` for a domain code (the first Chinese alias the contract maps onto it)."""
    from gridaudit.contract import load_contract

    if code is None:
        return "-"
    d = load_contract().domains.get(domain)
    zh = next((a for a, v in (d.aliases.items() if d else []) if v == code), None)
    return f"{zh} {code}" if zh else code


def _month_start(month: str, shift: int = 0) -> date:
    y, m = int(month[:4]), int(month[5:7]) - 1 + shift
    return date(y + m // 12, m % 12 + 1, 1)


def window(period: str | None) -> tuple[date, date, tuple[str, str] | None]:
    """The days shown: MONTHS_BEFORE months before the finding's period through the month after it."""
    from gridaudit.findings.query import period_span

    span = period_span(period)
    if span is None:
        return date(1900, 1, 1), date(9999, 12, 31), None
    lo, hi = span
    shaded = (_month_start(lo).isoformat(), (_month_start(hi, 1) - timedelta(days=1)).isoformat())
    return _month_start(lo, -MONTHS_BEFORE), _month_start(hi, 2) - timedelta(days=1), shaded


class Reader:
    """Bound-parameter queries over one dataset version; a missing table reads as no rows."""

    def __init__(self, dataset_dir: Path, version: str | None) -> None:
        from gridaudit.dataset import DatasetError, open_dataset
        from gridaudit.engines import open_engine

        try:
            ds = open_dataset(dataset_dir, version)
        except DatasetError:
            ds = open_dataset(dataset_dir)
        self.version = ds.version
        self.engine = open_engine(ds)
        self.have = self.engine.tables()

    def rows(self, needs: tuple[str, ...], sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The query's rows as dicts, or [] when a table it needs is missing."""
        if not set(needs) <= self.have:
            return []
        return self.engine.query(sql, params).to_pylist()

    def staff_names(self, rows: list[dict[str, Any]], *columns: str) -> dict[str, str]:
        """staff_id → "name (id)" for the staff named in ``columns`` of ``rows`` (ids without a name stay ids)."""
        ids = sorted({str(r[c]) for r in rows for c in columns if r.get(c)})
        q = "SELECT staff_id, name FROM staff WHERE list_contains($ids, staff_id) AND name IS NOT NULL"
        found = {r["staff_id"]: f"{r['name']} ({r['staff_id']})" for r in self.rows(("staff",), q, {"ids": ids})}
        return {i: found.get(i, i) for i in ids}

    def close(self) -> None:
        """Close the engine."""
        self.engine.close()


def subject(rd: Reader, task: Any, ev: dict[str, Any]) -> tuple[str | None, list[str], str | None]:
    """The customer, meters and area the finding is about (from its entity, then its evidence)."""
    et, eid = task.entity_type, str(task.entity_id)
    cust = eid if et == "customer" else ev.get("customer_id")
    meters = [eid] if et == "meter" else [str(m) for m in ([ev["meter_id"]] if ev.get("meter_id") else [])]
    area = eid if et == "area" else ev.get("area_id")
    if et == "meter":
        got = rd.rows(("meters",), "SELECT customer_id, area_id FROM meters WHERE meter_id = $m", {"m": eid})
        if got:
            cust, area = cust or got[0]["customer_id"], area or got[0]["area_id"]
    elif et in ("bill", "work_order"):
        table, key = ("bills", "bill_id") if et == "bill" else ("work_orders", "order_id")
        got = rd.rows((table,), f"SELECT customer_id FROM {table} WHERE {key} = $k", {"k": eid})
        cust = cust or (got[0]["customer_id"] if got else None)
    if cust:
        q = "SELECT meter_id FROM meters WHERE customer_id = $c ORDER BY meter_id"
        meters = meters or [r["meter_id"] for r in rd.rows(("meters",), q, {"c": cust})]
        got = rd.rows(("customers",), "SELECT area_id FROM customers WHERE customer_id = $c", {"c": cust})
        area = area or (got[0]["area_id"] if got else None)
    elif et == "area":
        q = "SELECT meter_id FROM meters WHERE area_id = $a AND role = 'area_total' ORDER BY meter_id"
        meters = [r["meter_id"] for r in rd.rows(("meters",), q, {"a": eid})]
    return (str(cust) if cust else None), meters, (str(area) if area else None)


def customer_items(rd: Reader, cust: str) -> list[Any]:
    """The customer's file (档案) as labelled values."""

    got = rd.rows(("customers",), "SELECT * FROM customers WHERE customer_id = $c", {"c": cust})
    if not got:
        return [Item(Text("用户编号", "customer"), f"{cust}（数据集中无此用户 / not in the dataset）")]
    row = got[0]
    cols = ("customer_id", "name", "unit_id", "area_id", "feeder_id", "category", "tariff_code", "voltage_kv",
            "contract_kva", "status", "connected_on", "reader_id")  # fmt: skip
    domains = {"category": "category", "status": "customer_status"}
    people = rd.staff_names([row], "reader_id")

    def cell(c: str) -> str:
        if c in domains:
            return code_label(domains[c], row[c])
        return people.get(str(row[c]), str(row[c])) if c == "reader_id" else plain(row[c])

    return [Item(header("customers", c), cell(c)) for c in cols if row.get(c) is not None]


def staff_items(rd: Reader, staff_id: str) -> list[Item]:
    """A staff member's file: name, unit and role."""
    got = rd.rows(("staff",), "SELECT staff_id, name, unit_id, role FROM staff WHERE staff_id = $s", {"s": staff_id})
    if not got:
        return [Item(Text("人员编号", "staff"), f"{staff_id}（数据集中无此人员 / not in the dataset）")]
    row = got[0]
    return [
        Item(header("staff", c), code_label("staff_role", row[c]) if c == "role" else plain(row[c]))
        for c in ("staff_id", "name", "unit_id", "role")
        if row.get(c) is not None
    ]


def _person(names: dict[str, str]) -> Any:
    """A cell formatter: a staff id as "name (id)"."""
    return lambda v: names.get(str(v), str(v)) if v is not None else "-"


def _table(title: Text, table: str, cols: list[str], rows: list[dict[str, Any]], fmt: dict[str, Any]) -> Any:

    note = None
    if len(rows) > MAX_ROWS:
        note = Text(f"仅列出最近 {MAX_ROWS} 行（共 {len(rows)} 行）", f"the newest {MAX_ROWS} of {len(rows)} rows")
        rows = rows[-MAX_ROWS:]
    return Table(
        title,
        [header(table, c) for c in cols],
        [[fmt[c](r[c]) if c in fmt else plain(r[c]) for c in cols] for r in rows],
        note,
    )


def add_data(pack: Any, task: Any, ev: dict[str, Any], dataset_dir: Path, run: Any) -> None:
    """Fill the pack's data sections from the dataset (and its findings store)."""

    rd = Reader(dataset_dir, run.dataset_version if run is not None else None)
    try:
        cust, meters, area = subject(rd, task, ev)
        d0, d1, shaded = window(task.period)
        by_day = {"ids": meters, "d0": d0, "d1": d1}
        by_period = {"ids": meters, "p0": d0.strftime("%Y-%m"), "p1": d1.strftime("%Y-%m")}
        pack.subject = [Item(Text("数据集版本", "dataset version"), rd.version)]
        if task.entity_type == "staff":
            pack.subject += staff_items(rd, str(task.entity_id))
        if cust:
            pack.subject += customer_items(rd, cust)
        if task.responsible_staff_id:
            who = rd.staff_names([{"s": task.responsible_staff_id}], "s")[str(task.responsible_staff_id)]
            pack.subject.append(Item(Text("问题责任人员", "staff responsible for the finding"), who))
        if meters:
            q = (
                "SELECT meter_id, role, multiplier, installed_on, verification_due FROM meters "
                "WHERE list_contains($ids, meter_id) ORDER BY meter_id"
            )
            for m in rd.rows(("meters",), q, {"ids": meters}):
                pack.subject.append(
                    Item(
                        Text("电能表", "meter"),
                        f"{m['meter_id']} · {code_label('meter_role', m['role'])} · ×{m['multiplier']:g}"
                        + (f" · {m['installed_on']}" if m["installed_on"] else ""),
                    )
                )
        readings = rd.rows(
            ("readings",),
            "SELECT r.meter_id, r.period, r.read_on, r.reading, r.read_type, r.reader_id FROM readings r "
            "WHERE list_contains($ids, r.meter_id) AND r.period BETWEEN $p0 AND $p1 ORDER BY r.read_on, r.meter_id",
            by_period,
        )
        if readings:
            pack.readings = _table(
                Text("抄表示数", "Meter readings"), "readings",
                ["meter_id", "period", "read_on", "reading", "read_type", "reader_id"], readings,
                {"read_type": lambda v: code_label("read_type", v),
                 "reader_id": _person(rd.staff_names(readings, "reader_id"))},
            )  # fmt: skip
        bills = rd.rows(
            ("bills",),
            "SELECT bill_id, period, kwh, tariff_code, amount_yuan, adjustment_kwh, adjustment_yuan, clerk_id, "
            "issued_on FROM bills WHERE customer_id = $c AND period BETWEEN $p0 AND $p1 ORDER BY period, bill_id",
            {"c": cust or "", "p0": by_period["p0"], "p1": by_period["p1"]},
        )
        if bills:
            pack.bills = _table(
                Text("电费账单", "Bills"), "bills",
                ["bill_id", "period", "kwh", "tariff_code", "amount_yuan", "adjustment_kwh", "adjustment_yuan",
                 "clerk_id", "issued_on"], bills,
                {"kwh": kwh, "amount_yuan": yuan, "adjustment_yuan": yuan,
                 "clerk_id": _person(rd.staff_names(bills, "clerk_id"))},
            )  # fmt: skip
        events = rd.rows(
            ("meter_events",),
            "SELECT meter_id, ts, event_type, ended_at, detail FROM meter_events WHERE list_contains($ids, meter_id) "
            "AND CAST(ts AS DATE) BETWEEN $d0 AND $d1 ORDER BY ts, meter_id",
            by_day,
        )
        seals = rd.rows(
            ("seals",),
            "SELECT seal_id, meter_id, position, applied_at, applied_by, removed_at, removed_by, order_id FROM seals "
            "WHERE list_contains($ids, meter_id) ORDER BY applied_at, seal_id",
            {"ids": meters},
        )
        if seals:
            people = rd.staff_names(seals, "applied_by", "removed_by")
            pack.seals = _table(
                Text("封印", "Seals"), "seals",
                ["seal_id", "meter_id", "position", "applied_at", "applied_by", "removed_at", "removed_by", "order_id"],
                seals,
                {"position": lambda v: code_label("seal_position", v), "applied_by": _person(people),
                 "removed_by": _person(people)},
            )  # fmt: skip
        if events:
            pack.events = _table(
                Text("电能表事件", "Meter events"), "meter_events",
                ["meter_id", "ts", "event_type", "ended_at", "detail"], events,
                {"event_type": lambda v: code_label("event_type", v)},
            )  # fmt: skip
        daily = rd.rows(
            ("daily_usage", "meters"),
            "SELECT d.day, SUM(d.kwh * m.multiplier) AS kwh FROM daily_usage d "
            "JOIN meters m ON m.meter_id = d.meter_id WHERE list_contains($ids, d.meter_id) "
            "AND d.day BETWEEN $d0 AND $d1 GROUP BY d.day ORDER BY d.day",
            by_day,
        )
        if daily:
            pack.daily = DailySeries(
                days=[r["day"].isoformat() for r in daily],
                kwh=[round(float(r["kwh"]), 3) for r in daily],
                events=[{k: r[k] for k in ("ts", "event_type", "ended_at", "detail")} for r in events],
                window=shaded if task.family == "theft" else None,  # the chart calls it the suspected theft window
            )
        if area:
            pack.area_loss = area_loss(dataset_dir, area)
        if cust:
            pack.risk = risk_items(dataset_dir, cust)
    finally:
        rd.close()


def _store_findings(dataset_dir: Path, analyzer: str, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
    """Findings of the latest ``analyzer`` run about one entity (a filtered read of its findings file)."""
    import pyarrow.parquet as pq

    from gridaudit.findings.store import latest_runs

    out: list[dict[str, Any]] = []
    for run in latest_runs(dataset_dir, [analyzer]):
        flt = [("entity_type", "=", entity_type), ("entity_id", "=", entity_id)]
        out += pq.read_table(run.findings_path, filters=flt).to_pylist()
    return out


def area_loss(dataset_dir: Path, area: str) -> Any:
    """The area's monthly line loss as the latest loss run found it (supply, sales, loss, rate, band)."""

    rows = sorted(_store_findings(dataset_dir, "loss", "area", area), key=lambda r: (r["period"] or "", r["rule_id"]))
    rows = [r for r in rows if r["rule_id"].startswith("loss_area_")]
    if not rows:
        return None
    body = []
    for r in rows:
        e = json.loads(r["evidence"] or "{}")
        body.append(
            [
                r["period"] or "-",
                kwh(e.get("supply_kwh")),
                kwh(e.get("sales_kwh")),
                kwh(e.get("loss_kwh")),
                plain(e.get("loss_rate_pct")),
                labels.band(e.get("band")),
                plain(e.get("corrected_rate_pct")),
                Text("是", "yes") if e.get("explained_by_mapping") else "-",
            ]
        )
    cols = [
        Text("期间", "period"),
        Text("供电量 kWh", "supply kWh"),
        Text("售电量 kWh", "sales kWh"),
        Text("损失电量 kWh", "loss kWh"),
        Text("线损率 %", "loss rate %"),
        Text("区间", "band"),
        Text("户变关系修正后 %", "rate after mapping fix %"),
        Text("户变关系可解释", "explained by mapping"),
    ]
    return Table(Text(f"台区 {area} 线损（线损分析）", f"Area {area} line loss (loss analysis)"), cols, body)


def risk_items(dataset_dir: Path, cust: str) -> list[Any]:
    """The customer's theft-risk score and its explanation from the latest risk run, if it scored them."""

    rows = _store_findings(dataset_dir, "risk", "customer", cust)
    if not rows:
        return []
    r = rows[0]
    e = json.loads(r["evidence"] or "{}")
    items = [
        Item(Text("风险评分", "risk score"), plain(r["score"])),
        Item(Text("评分运行", "scoring run"), r["run_id"]),
    ]
    if e.get("explanation_zh") or e.get("explanation_en"):
        items.append(
            Item(Text("主要原因", "main reasons"), Text(e.get("explanation_zh") or "-", e.get("explanation_en") or "-"))
        )
    return items
