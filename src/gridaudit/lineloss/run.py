"""One line-loss run: balance → billing cycle → technical loss → customers behind → trends → findings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from gridaudit.dataset import Dataset, replacing, write_parquet
from gridaudit.engines import Engine
from gridaudit.findings import FINDINGS_SCHEMA, RunInfo, read_findings, write_findings
from gridaudit.i18n import both
from gridaudit.lineloss.balance import BalanceTables, Window, run_balance
from gridaudit.lineloss.behind import prepare_series, rank_suspects
from gridaudit.lineloss.billing import billing_cycle_loss
from gridaudit.lineloss.inputs import LossInputError, ask, data_span, open_inputs, stage
from gridaudit.lineloss.mapping import find_mapping_errors
from gridaudit.lineloss.settings import LossSettings
from gridaudit.lineloss.technical import technical_loss
from gridaudit.lineloss.to_findings import build_findings
from gridaudit.lineloss.trends import loss_trends


@dataclass
class LossResult:
    """Everything one run produced (Arrow tables) and what it ran on."""

    window: Window
    balance: BalanceTables
    billing: pa.Table | None
    technical_monthly: pa.Table
    technical_window: pa.Table
    suspects: pa.Table
    mapping: pa.Table
    trends: pa.Table
    findings: pa.Table
    notes: list[str]
    seconds: dict[str, float]
    dataset_root: Path | None = None
    dataset_version: str | None = None
    run_id: str | None = None  # the findings-store run it was read from (None: computed here)
    engine: str = "duckdb"  # the engine it ran on

    def tables(self) -> dict[str, pa.Table]:
        """Output tables by file stem."""
        out = {
            "balance_daily": self.balance.daily,
            "balance_monthly": self.balance.monthly,
            "balance_window": self.balance.window,
            "technical_monthly": self.technical_monthly,
            "technical_window": self.technical_window,
            "suspects": self.suspects,
            "mapping": self.mapping,
            "trends": self.trends,
        }
        if self.billing is not None:
            out["billing_cycle"] = self.billing
        return out


def resolve_window(
    span: tuple[date, date], start: date | None = None, end: date | None = None, period: str | None = None
) -> Window:
    """The window to balance: ``--period YYYY-MM``, or ``--from``/``--to`` (each defaulting to the data span)."""
    if period is not None:
        if start is not None or end is not None:
            raise LossInputError(
                both("--period 不能与 --from/--to 同用", "--period cannot be combined with --from/--to")
            )
        try:
            first = date(int(period[:4]), int(period[5:7]), 1)
            if len(period) != 7 or period[4] != "-":
                raise ValueError(period)
        except ValueError as exc:
            raise LossInputError(
                both(f"--period 应为 YYYY-MM: {period!r}", f"--period must be YYYY-MM: {period!r}")
            ) from exc
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return Window(first, last)
    w = Window(start or span[0], end or span[1])
    if w.end < w.start:
        raise LossInputError(
            both(f"--to 早于 --from: {w.start}..{w.end}", f"--to is before --from: {w.start}..{w.end}")
        )
    return w


MAPPING_MONTHLY_SQL = """
SELECT m.customer_id, m.recorded_area, m.likely_area, d.period, SUM(c.use) AS use_kwh
FROM ll_mapping m
JOIN ll_cust_key k ON k.customer_id = m.customer_id
JOIN ll_nodes n ON n.node_kind = 'area_sales' AND n.node_id = m.recorded_area
JOIN ll_cust_day c ON c.cust_no = k.cust_no AND c.area_no = n.node_no
JOIN ll_days d ON d.day = c.day
GROUP BY m.customer_id, m.recorded_area, m.likely_area, d.period
ORDER BY m.customer_id, d.period, m.recorded_area, m.likely_area
"""

PRICES_SQL = """
WITH t AS (
    SELECT tariff_code, price_yuan_kwh,
           ROW_NUMBER() OVER (PARTITION BY tariff_code ORDER BY valid_from DESC) AS rk
    FROM tariffs WHERE valid_from <= $d_end
)
SELECT c.customer_id, t.price_yuan_kwh FROM customers c JOIN t ON t.tariff_code = c.tariff_code AND t.rk = 1
"""


def run_loss(
    dataset: Dataset | str | Path,
    *,
    start: date | None = None,
    end: date | None = None,
    period: str | None = None,
    settings: LossSettings | None = None,
    threads: int | None = None,
    engine: Engine | None = None,
) -> LossResult:
    """Run the whole line-loss analysis on ``dataset`` for the chosen window.

    On ``engine`` when given (PostgreSQL, Spark or a DuckDB engine of the caller, left open), else on a DuckDB
    engine opened (with ``threads``) and closed here.
    """
    settings = settings or LossSettings()
    inputs = open_inputs(dataset, threads=threads, engine=engine)
    eng = inputs.engine
    try:
        span = data_span(inputs)
        window = resolve_window(span, start, end, period)
        if window.end < span[0] or window.start > span[1]:  # a window with no data: say so, not "not computable"
            lo, hi = span[0].strftime("%Y-%m"), span[1].strftime("%Y-%m")
            raise LossInputError(
                both(
                    f"数据集 {inputs.dataset.root} 中没有 {window.label} 的数据（daily_usage 覆盖 {lo}..{hi}）",
                    f"no data for {window.label} in dataset {inputs.dataset.root} (daily_usage covers {lo}..{hi})",
                )
            )
        notes: list[str] = []
        seconds: dict[str, float] = {}
        clock = [time.perf_counter()]

        def lap(name: str) -> None:
            now = time.perf_counter()
            seconds[name] = round(now - clock[0], 3)
            clock[0] = now

        balance = run_balance(eng, window, settings)
        lap("balance")
        params = {"d_from": window.start, "d_end": window.end + timedelta(days=1)}
        seen = pa.concat_tables(
            [
                balance.window.select(["level", "entity_id", "band"]),
                balance.monthly.select(["level", "entity_id", "band"]),
            ]
        )
        prepare_series(eng, window, seen)
        lap("series")
        billing = None
        if inputs.has("readings") and inputs.has("bills"):
            billing = billing_cycle_loss(eng, window)
            lap("billing")
        else:
            notes.append(
                both("无 readings/bills 表，未计算抄表周期线损", "no readings/bills: billing-cycle loss skipped")
            )
        tech_m, tech_w = technical_loss(eng, settings, params, inputs.has("interval_usage"), window.label)
        lap("technical")
        suspects = rank_suspects(eng, window, settings, inputs.has("meter_events"))
        lap("suspects")
        mapping = find_mapping_errors(eng, window.start, len(window.days()), settings)
        lap("mapping")
        eng.register_table("ll_mapping", mapping.select(["customer_id", "recorded_area", "likely_area"]))
        mapping_monthly = ask(eng, MAPPING_MONTHLY_SQL)
        trends = loss_trends(eng, balance.monthly, settings)
        managers = _pairs(ask(eng, "SELECT area_id, manager_id FROM areas"))
        prices: dict[str, float] = {}
        area_prices: dict[str, float] = {}
        if inputs.has("tariffs"):
            stage(eng, "ll_prices", PRICES_SQL, {"d_end": window.end})
            prices = _pairs(ask(eng, "SELECT customer_id, price_yuan_kwh FROM ll_prices"))
            area_prices = _pairs(
                ask(
                    eng,
                    "SELECT c.area_id, AVG(p.price_yuan_kwh) AS price FROM customers c "
                    "JOIN ll_prices p ON p.customer_id = c.customer_id WHERE c.area_id IS NOT NULL GROUP BY c.area_id",
                )
            )
        run_id = f"lineloss:{inputs.dataset.version}:{window.label}"
        findings = build_findings(
            monthly=balance.monthly,
            technical_monthly=tech_m,
            suspects=suspects,
            mapping=mapping,
            mapping_monthly=mapping_monthly,
            trends=trends,
            managers=managers,
            prices=prices,
            area_prices=area_prices,
            settings=settings,
            window_label=window.label,
            run_id=run_id,
        )
        lap("trends_findings")
        return LossResult(
            window,
            balance,
            billing,
            tech_m,
            tech_w,
            suspects,
            mapping,
            trends,
            findings,
            notes,
            seconds,
            dataset_root=Path(inputs.dataset.root),
            dataset_version=inputs.dataset.version,
            engine=eng.name,
        )
    finally:
        inputs.close()


def _pairs(table: pa.Table) -> dict:
    """The first two columns of ``table`` as a dict (key → value)."""
    return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))


def append_to_store(
    result: LossResult,
    settings: LossSettings,
    started_at: datetime,
    settings_file: str | Path | None = None,
) -> RunInfo:
    """Append the run to its dataset's findings store: its findings and every output table (``tables()``,
    kept in the run folder for the web views and the monthly report), with the settings and window used."""
    from dataclasses import asdict

    from gridaudit.findings.store import RunProvenance, append_run, file_sha256, now_utc

    files = {}
    if settings_file:
        files["settings"] = {"path": str(settings_file), "sha256": file_sha256(settings_file)}
    prov = RunProvenance(
        analyzer="loss",
        engine=result.engine,
        started_at=started_at,
        ended_at=now_utc(),
        rule_files=files,
        params={"settings": asdict(settings), "window": [str(result.window.start), str(result.window.end)]},
        extra={"notes": result.notes, "seconds": result.seconds},
        dataset_version=result.dataset_version,
    )
    if result.dataset_root is None:
        raise ValueError("a line-loss result without its dataset cannot be stored")
    run = append_run(result.dataset_root, result.findings, prov, tables=result.tables())
    result.run_id = run.run_id
    return run


def write_outputs(result: LossResult, out_dir: str | Path, append_findings: bool = True) -> list[Path]:
    """Write every table as Parquet into ``out_dir`` (each file replaced atomically); merge findings.

    Findings already in ``out_dir/findings.parquet`` are kept unless this run re-issues the same finding_id.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, table in result.tables().items():
        path = out / f"{stem}.parquet"
        write_parquet(table, path)
        written.append(path)
    fpath = out / "findings.parquet"
    findings = result.findings
    if append_findings and fpath.exists():
        old = read_findings(fpath)
        new_ids = set(findings.column("finding_id").to_pylist())
        keep = [i for i, fid in enumerate(old.column("finding_id").to_pylist()) if fid not in new_ids]
        findings = pa.concat_tables([old.take(pa.array(keep, pa.int64())), findings.cast(FINDINGS_SCHEMA)])
    with replacing(fpath) as tmp:
        write_findings(findings, tmp)
    written.append(fpath)
    return written
