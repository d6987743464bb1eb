"""What the monthly report reads, read once: names from the dataset, the unit tree, the findings store's
latest runs, the line-loss outputs and the case store.

The line-loss outputs come from ``--loss DIR`` (Parquet written by ``gridaudit loss --out-dir``) when given;
else from the newest loss run in the findings store (:mod:`gridaudit.lineloss.stored`) whose window covers
the months the report shows (the month and the twelve before it, within the data); else from ``loss/``
beside the dataset; else they are computed for those months, and the loss section says which.

Dataset tables are read through ``open_engine`` (DESIGN: engines are the only way to data); the loss
outputs, which are not dataset tables, with pyarrow, keeping only the months the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gridaudit.audit.errors import AuditError
from gridaudit.i18n import Text
from gridaudit.reports.monthly.model import month_shift

NAMED = (  # entity type, table, key column
    ("unit", "units", "unit_id"),
    ("feeder", "feeders", "feeder_id"),
    ("area", "areas", "area_id"),
    ("customer", "customers", "customer_id"),
    ("staff", "staff", "staff_id"),
)
LOSS_FILES = ("balance_monthly", "trends", "mapping")
TREND_MONTHS = 13  # the loss trend chart: the month and the twelve before it


class ReportError(AuditError):
    """The report cannot be made from these inputs (the message names the input)."""


@dataclass
class ReportInputs:
    """Everything the report's sections are computed from."""

    root: Path
    month: str
    data_month: str | None
    unit_id: str | None
    units: set[str] | None  # the unit and those under it; None: every unit
    names: dict[str, dict[str, str]]  # entity type → id → name
    parents: dict[str, str | None]
    entity_unit: dict[tuple[str, str], str]
    findings: pa.Table  # latest run of each analyzer, with unit_id
    runs: list[Any]
    loss: dict[str, pa.Table] = field(default_factory=dict)
    loss_dir: Path | None = None
    user: Any = None
    loss_source: Text | None = None  # where the line-loss figures come from (said in the loss section)

    def name(self, etype: str, key: Any) -> str:
        """The entity's name, else its id ("—" for none)."""
        if key is None or key == "":
            return "—"
        return self.names.get(etype, {}).get(str(key), str(key))

    def named(self, etype: str, key: Any) -> str:
        """ "name (id)" when the entity has a name, else its id."""
        if key is None or key == "":
            return "—"
        n = self.names.get(etype, {}).get(str(key))
        return f"{n}（{key}）" if n and n != str(key) else str(key)

    def in_scope(self, unit: str | None) -> bool:
        """Whether something of ``unit`` belongs in the report (always, without ``--unit``)."""
        return self.units is None or unit in self.units


def _names(eng: Any, ds: Any) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for etype, table, key in NAMED:
        if not ds.has(table):
            continue
        cols = set(eng.query(f"select * from {table} limit 0").column_names)
        if "name" not in cols:
            continue
        t = eng.query(f"select cast({key} as varchar) k, cast(name as varchar) n from {table} where name is not null")
        out[etype] = dict(zip(t.column("k").to_pylist(), t.column("n").to_pylist(), strict=True))
    return out


def _parents(eng: Any, ds: Any) -> dict[str, str | None]:
    if not ds.has("units"):
        return {}
    cols = set(eng.query("select * from units limit 0").column_names)
    parent = "cast(parent_id as varchar)" if "parent_id" in cols else "null"
    t = eng.query(f"select cast(unit_id as varchar) u, {parent} p from units")
    return dict(zip(t.column("u").to_pylist(), t.column("p").to_pylist(), strict=True))


def subtree(parents: dict[str, str | None], unit_id: str) -> set[str]:
    """``unit_id`` and every unit under it in the dataset's unit tree."""
    children: dict[str, list[str]] = {}
    for u, p in parents.items():
        if p is not None:
            children.setdefault(p, []).append(u)
    out, todo = {unit_id}, [unit_id]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def _read_loss(loss_dir: Path, months: list[str]) -> dict[str, pa.Table]:
    out: dict[str, pa.Table] = {}
    for stem in LOSS_FILES:
        path = loss_dir / f"{stem}.parquet"
        if not path.is_file():
            continue
        try:
            if stem == "balance_monthly":
                table = pq.read_table(path, filters=[("period", "in", months)])
            else:
                table = pq.read_table(path)
        except (OSError, pa.ArrowInvalid) as exc:
            raise ReportError(
                f"无法读取线损输出 {path}: {exc}", f"cannot read the line-loss output {path}: {exc}"
            ) from exc
        out[stem] = table
    return out


def _usage_months(eng: Any, ds: Any) -> tuple[str, str] | None:
    """The first and last month of daily usage, None when the dataset has none."""
    if not ds.has("daily_usage"):
        return None
    lo, hi = eng.query("SELECT MIN(day) AS lo, MAX(day) AS hi FROM daily_usage").to_pylist()[0].values()
    return None if lo is None else (lo.strftime("%Y-%m"), hi.strftime("%Y-%m"))


def _stored_or_computed(
    root: Path, ds: Any, month: str, months: list[str], span: tuple[str, str] | None
) -> tuple[dict[str, pa.Table], Text | None]:
    """The loss tables from the newest stored loss run covering the report's months (within the data), else
    computed for those months; ({}, None) when the data has none of them."""
    from gridaudit.lineloss.inputs import LossInputError
    from gridaudit.lineloss.run import run_loss
    from gridaudit.lineloss.stored import latest_loss_outputs, month_window

    if span is None:
        return {}, None
    first, last = max(month_shift(month, -(TREND_MONTHS - 1)), span[0]), min(month, span[1])
    if first > last:
        return {}, None
    start, end = month_window(first, last)
    stored = latest_loss_outputs(root, start, end, version=ds.version)
    if stored is not None:
        return {s: stored.read(s, months) for s in LOSS_FILES}, stored.note()
    legacy = root.parent / "loss"
    if (legacy / "balance_monthly.parquet").is_file():
        return _read_loss(legacy, months), Text(f"线损数据来自 {legacy}", f"line-loss figures from {legacy}")
    try:
        result = run_loss(ds, start=start, end=end)
    except LossInputError as exc:
        raise ReportError(f"无法计算线损: {exc}", f"cannot compute line loss: {exc}") from exc
    tables = result.tables()
    note = Text(
        f"没有覆盖 {first}..{last} 的线损运行，线损为报告现算（运行 gridaudit loss 可预先计算）",
        f"no loss run covers {first}..{last}: line loss computed for this report (run gridaudit loss to precompute)",
    )
    return {s: tables[s] for s in LOSS_FILES}, note


def data_month_of(month: str, findings: pa.Table, loss: dict[str, pa.Table]) -> str | None:
    """The month the data sections show: ``month`` if the data has it, else the latest month before it.

    With line-loss outputs, "the data has it" means the balance has the month (daily metering covers it; a
    stray finding dated later, e.g. a bill issued next month, does not make a month); else the findings."""
    from gridaudit.audit.plans import last_month

    months: set[str] = set()
    if "balance_monthly" in loss:
        months = set(loss["balance_monthly"].column("period").to_pylist())
    else:
        months = {m for p in pc.unique(findings.column("period")).to_pylist() if (m := last_month(p))}
    before = sorted(m for m in months if m <= month)
    return before[-1] if before else None


def read_inputs(
    dataset_dir: str | Path,
    month: str,
    unit_id: str | None = None,
    loss_dir: str | Path | None = None,
    user: Any = None,
) -> ReportInputs:
    """Read the dataset's names and unit tree, its findings store and the loss outputs for ``month``.

    Without ``loss_dir`` the loss outputs come from a stored loss run, else ``loss/`` beside the dataset, else
    they are computed (see the module docstring); without daily usage the line-loss section says so."""
    from gridaudit.audit.plans import entity_units
    from gridaudit.dataset import DatasetError, open_dataset
    from gridaudit.engines import open_engine
    from gridaudit.findings import latest_runs
    from gridaudit.findings.query import with_units
    from gridaudit.findings.store import FindingsStoreError, read_runs

    root = Path(dataset_dir)
    try:
        ds = open_dataset(root)
    except DatasetError as exc:
        raise ReportError(f"无法打开数据集 {root}: {exc}", f"cannot open the dataset {root}: {exc}") from exc
    eng = open_engine(ds)
    try:
        names = _names(eng, ds)
        parents = _parents(eng, ds)
        span = _usage_months(eng, ds) if loss_dir is None else None
    finally:
        eng.close()
    if unit_id is not None and parents and unit_id not in parents:
        raise ReportError(
            f"--unit {unit_id}: 数据集 {root} 的 units 表中没有该单位",
            f"--unit {unit_id}: no such unit in the units table of dataset {root}",
        )
    try:
        runs = latest_runs(root)
        findings = read_runs(runs)
    except FindingsStoreError as exc:
        raise ReportError(f"无法读取问题库: {exc}", f"cannot read the findings store: {exc}") from exc
    units_map = entity_units(root)
    findings = with_units(findings, units_map)
    months = [month_shift(month, -i) for i in range(TREND_MONTHS + 13)]
    if loss_dir is not None:
        loss = _read_loss(Path(loss_dir), months)
        if "balance_monthly" not in loss:
            raise ReportError(
                f"--loss {loss_dir}: 没有 balance_monthly.parquet（请先运行 gridaudit loss --out-dir {loss_dir}）",
                f"--loss {loss_dir}: no balance_monthly.parquet (run gridaudit loss --out-dir {loss_dir} first)",
            )
        loss_source: Text | None = Text(f"线损数据来自 {loss_dir}", f"line-loss figures from {loss_dir}")
    else:
        loss, loss_source = _stored_or_computed(root, ds, month, months, span)
    return ReportInputs(
        root=root,
        month=month,
        data_month=data_month_of(month, findings, loss),
        unit_id=unit_id,
        units=subtree(parents, unit_id) if unit_id else None,
        names=names,
        parents=parents,
        entity_unit=units_map,
        findings=findings,
        runs=runs,
        loss=loss,
        loss_dir=Path(loss_dir) if loss_dir is not None else None,
        user=user,
        loss_source=loss_source,
    )
