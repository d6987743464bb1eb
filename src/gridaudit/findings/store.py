"""The findings store of a dataset: every analyzer run appended with its provenance (DESIGN §5).

Layout::

    <dataset>/findings/
      runs/<run_id>/run.json          provenance and counts, written last
      runs/<run_id>/findings.parquet  the run's findings (DESIGN §5 shape; run_id stamped in every row)
      runs/<run_id>/<name>.parquet    the run's output tables, if any (line loss: its balance tables),
                                      listed with their row counts under "tables" in run.json
      .tmp-<run_id>/                  a run being written (ignored by readers)

A run is written into ``.tmp-<run_id>/`` inside the store, fsynced, and only then renamed into
``runs/``; its ``run.json`` is the last file written before the rename. A crash or ``kill -9`` at any
point leaves the earlier runs intact and readable (an interrupted folder stays under ``.tmp-*`` and is
never read; it is removed by a later append once a day old). Run ids carry the analyzer, the UTC time
and a random part, and a rename never replaces an existing run, so concurrent appends are safe and no
run overwrites another.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gridaudit.dataset import fsync_dir, fsync_file, replacing, write_text
from gridaudit.findings.pricing import Pricer, PricingStats
from gridaudit.findings.shape import FINDINGS_SCHEMA
from gridaudit.i18n import both

STORE_DIR = "findings"
RUNS_DIR = "runs"
RUN_FILE = "run.json"
FINDINGS_FILE = "findings.parquet"
RUN_FORMAT = "gridaudit-findings-run/1"
TMP_PREFIX = ".tmp-"
STALE_SECONDS = 24 * 3600
ANALYZER_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
TABLE_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
RESERVED_TABLES = ("findings", "run")


class FindingsStoreError(Exception):
    """A findings store that cannot be read or written, or a run that does not exist."""


@dataclass
class RunProvenance:
    """What an analyzer tells the store about one run (everything but the findings and their counts).

    ``rule_files``: id → {"path", "sha256"} of each rule (or model) file used; ``params``: the parameter
    values used (rules: id → effective params; loss/risk: their settings); ``rule_status``: one dict per
    rule (rule_id, family, status ok/skipped/error, hits, seconds, message); ``extra``: anything else.
    """

    analyzer: str
    engine: str = "duckdb"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    rule_files: dict[str, dict[str, str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    rule_status: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    dataset_version: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """One complete run in the store."""

    run_id: str
    analyzer: str
    dataset_version: str
    engine: str
    started_at: str
    ended_at: str
    rows: int
    path: Path
    record: dict[str, Any]

    @property
    def findings_path(self) -> Path:
        """The run's findings Parquet file."""
        return self.path / FINDINGS_FILE

    @property
    def tables(self) -> dict[str, int]:
        """The run's output tables besides its findings: name → row count (none for most analyzers)."""
        return {k: int(v.get("rows", 0)) for k, v in (self.record.get("tables") or {}).items()}

    def table_path(self, name: str) -> Path:
        """The Parquet file of the run's output table ``name`` (an unknown name is an error)."""
        if name not in self.tables:
            raise FindingsStoreError(
                both(f"运行 {self.run_id} 没有输出表 {name}", f"run {self.run_id} has no output table {name}")
            )
        return self.path / f"{name}.parquet"

    def source(self) -> dict[str, Any]:
        """What a plan records about the runs it read."""
        return {"run_id": self.run_id, "analyzer": self.analyzer, "dataset_version": self.dataset_version}


def now_utc() -> datetime:
    """The current UTC time, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def _iso(value: datetime | None) -> str:
    value = value or now_utc()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes (rule, model and settings files in provenance)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def store_dir(dataset_dir: str | Path) -> Path:
    """The findings store folder of the dataset at ``dataset_dir``."""
    return Path(dataset_dir) / STORE_DIR


def _check_dataset(dataset_dir: str | Path) -> Path:
    from gridaudit.dataset import is_dataset

    root = Path(dataset_dir)
    if not is_dataset(root):
        raise FindingsStoreError(
            both(
                f"{root} 不是 gridaudit 数据集（先运行 gridaudit ingest）",
                f"{root} is not a gridaudit dataset (run gridaudit ingest first)",
            )
        )
    return root


def new_run_id(analyzer: str, when: datetime | None = None) -> str:
    """A new, unique run id: ``<analyzer>-<UTC yyyymmddThhmmssZ>-<8 random hex>``."""
    stamp = (when or now_utc()).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{analyzer}-{stamp}-{uuid.uuid4().hex[:8]}"


def append_run(
    dataset_dir: str | Path,
    findings: pa.Table | Iterable[pa.Table | pa.RecordBatch],
    provenance: RunProvenance,
    tables: Mapping[str, pa.Table] | None = None,
) -> RunInfo:
    """Append one analyzer run to the dataset's findings store, atomically; return the new run.

    ``findings`` is a findings table or an iterable of batches (for runs too large to hold at once).
    ``tables`` are the run's other outputs (name → table), written as ``<name>.parquet`` in the same run
    folder, in the same atomic write, and listed with their row counts under ``tables`` in run.json.
    Every row gets the new run id and its ¥ at stake priced (``gridaudit.findings.pricing``) against the
    dataset version the run read (``provenance.dataset_version``, default the current one).
    """
    from gridaudit.dataset import open_dataset

    root = _check_dataset(dataset_dir)
    if not ANALYZER_RE.fullmatch(provenance.analyzer or ""):
        raise FindingsStoreError(
            both(f"分析器名称无效：{provenance.analyzer!r}", f"bad analyzer name: {provenance.analyzer!r}")
        )
    tables = dict(tables or {})
    bad = [n for n in tables if not TABLE_RE.fullmatch(n) or n in RESERVED_TABLES]
    if bad:
        raise FindingsStoreError(both(f"输出表名称无效：{bad!r}", f"bad output table names: {bad!r}"))
    ds = open_dataset(root, provenance.dataset_version)
    run_id = new_run_id(provenance.analyzer)
    sdir = store_dir(root)
    (sdir / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    _remove_stale(sdir)
    tmp = sdir / f"{TMP_PREFIX}{run_id}"
    tmp.mkdir()
    pricer = Pricer(ds)
    try:
        counts = _write_findings(tmp / FINDINGS_FILE, findings, run_id, pricer)
        written = _write_tables(tmp, tables)
        ended = provenance.ended_at or now_utc()
        record = {
            "format": RUN_FORMAT,
            "run_id": run_id,
            "analyzer": provenance.analyzer,
            "dataset_version": ds.version,
            "engine": provenance.engine,
            "started_at": _iso(provenance.started_at or ended),
            "ended_at": _iso(ended),
            "appended_at": _iso(None),
            "appended_ns": time.time_ns(),  # orders runs appended within one second
            "rule_files": provenance.rule_files,
            "params": provenance.params,
            "counts": {**counts, "rule_status": _status_counts(provenance.rule_status)},
            "rules": provenance.rule_status,
            **({"tables": written} if written else {}),
            **({"extra": provenance.extra} if provenance.extra else {}),
        }
        _write_json(tmp / RUN_FILE, record)
        fsync_dir(tmp)
        final = sdir / RUNS_DIR / run_id
        if final.exists():  # never happens with random ids; never replace a run if it does
            raise FindingsStoreError(both(f"运行 {run_id} 已存在", f"run {run_id} already exists"))
        os.rename(tmp, final)
        fsync_dir(sdir / RUNS_DIR)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        pricer.close()
    return _info(final, record)


def _write_findings(
    path: Path, findings: pa.Table | Iterable[pa.Table | pa.RecordBatch], run_id: str, pricer: Pricer
) -> dict[str, Any]:
    """Write the run's findings (priced, run_id stamped) and return their counts."""
    if isinstance(findings, pa.Table):
        findings = [findings.cast(FINDINGS_SCHEMA).sort_by("finding_id")]
    stats = PricingStats()
    rows = 0
    family: dict[str, int] = {}
    severity: dict[str, int] = {}
    with pq.ParquetWriter(path, FINDINGS_SCHEMA, compression="zstd") as writer:
        for part in findings:
            table = pa.Table.from_batches([part]) if isinstance(part, pa.RecordBatch) else part
            table = table.select(FINDINGS_SCHEMA.names).cast(FINDINGS_SCHEMA)
            table, got = pricer.price(table)
            stats.add(got)
            idx = table.schema.get_field_index("run_id")
            table = table.set_column(idx, "run_id", pa.array([run_id] * table.num_rows, pa.string()))
            writer.write_table(table, row_group_size=128 * 1024)
            rows += table.num_rows
            _tally(family, table.column("family"))
            _tally(severity, table.column("severity"))
    fsync_file(path)
    return {
        "rows": rows,
        "by_family": dict(sorted(family.items())),
        "by_severity": dict(sorted(severity.items())),
        "money": stats.as_dict(),
    }


def _write_tables(folder: Path, tables: dict[str, pa.Table]) -> dict[str, dict[str, Any]]:
    """Write the run's output tables as ``<name>.parquet`` (fsynced); return name → file and row count."""
    out: dict[str, dict[str, Any]] = {}
    for name, table in sorted(tables.items()):
        path = folder / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", row_group_size=128 * 1024)
        fsync_file(path)
        out[name] = {"file": path.name, "rows": table.num_rows, "columns": table.schema.names}
    return out


def read_run_table(
    run: RunInfo,
    name: str,
    columns: list[str] | None = None,
    where: Callable[[pa.Table], pa.Array | pa.ChunkedArray] | None = None,
) -> pa.Table:
    """One output table of a run; ``where`` gives the mask of the rows to keep, applied one row group at a
    time (memory bounded by the rows kept)."""
    path = run.table_path(name)
    try:
        pf = pq.ParquetFile(path)
        parts = []
        for i in range(pf.num_row_groups):
            part = pf.read_row_group(i, columns=columns)
            parts.append(part.filter(where(part)) if where is not None else part)
        schema = pf.schema_arrow if columns is None else pa.schema([pf.schema_arrow.field(c) for c in columns])
        return pa.concat_tables(parts) if parts else schema.empty_table()
    except (OSError, pa.ArrowInvalid) as exc:
        raise FindingsStoreError(both(f"无法读取 {path}: {exc}", f"cannot read {path}: {exc}")) from exc


def _tally(into: dict[str, int], col: pa.ChunkedArray) -> None:
    for item in pc.value_counts(col).to_pylist():
        key = str(item["values"])
        into[key] = into.get(key, 0) + int(item["counts"])


def _status_counts(reports: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in reports:
        out[r.get("status", "ok")] = out.get(r.get("status", "ok"), 0) + 1
    return dict(sorted(out.items()))


def _remove_stale(sdir: Path) -> None:
    """Remove interrupted run folders more than a day old (a live writer never takes that long)."""
    cutoff = time.time() - STALE_SECONDS
    for p in sdir.glob(f"{TMP_PREFIX}*"):
        try:
            if p.stat().st_mtime < cutoff:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            continue


def _info(path: Path, record: dict[str, Any]) -> RunInfo:
    return RunInfo(
        run_id=record["run_id"],
        analyzer=record["analyzer"],
        dataset_version=record.get("dataset_version", ""),
        engine=record.get("engine", ""),
        started_at=record.get("started_at", ""),
        ended_at=record.get("ended_at", ""),
        rows=int(record.get("counts", {}).get("rows", 0)),
        path=path,
        record=record,
    )


def list_runs(dataset_dir: str | Path, analyzers: list[str] | None = None) -> list[RunInfo]:
    """Complete runs in the dataset's findings store in the order they were appended (folders without a valid
    run.json are skipped)."""
    root = _check_dataset(dataset_dir)
    rdir = store_dir(root) / RUNS_DIR
    if not rdir.is_dir():
        return []
    out = []
    for p in rdir.iterdir():
        meta = p / RUN_FILE
        if not (meta.is_file() and (p / FINDINGS_FILE).is_file()):
            continue
        try:
            record = json.loads(meta.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if record.get("format") != RUN_FORMAT or record.get("run_id") != p.name:
            continue
        if analyzers and record.get("analyzer") not in analyzers:
            continue
        out.append(_info(p, record))
    return sorted(out, key=lambda r: (int(r.record.get("appended_ns", 0)), r.run_id))


def incomplete_runs(dataset_dir: str | Path) -> list[Path]:
    """Run folders left by interrupted writes (never read)."""
    return sorted(store_dir(_check_dataset(dataset_dir)).glob(f"{TMP_PREFIX}*"))


def latest_runs(dataset_dir: str | Path, analyzers: list[str] | None = None) -> list[RunInfo]:
    """The latest complete run of each analyzer (the last appended), ordered by analyzer."""
    latest: dict[str, RunInfo] = {}
    for r in list_runs(dataset_dir, analyzers):
        latest[r.analyzer] = r
    return [latest[a] for a in sorted(latest)]


def select_runs(
    dataset_dir: str | Path,
    runs: list[str] | None = None,
    analyzers: list[str] | None = None,
    all_runs: bool = False,
) -> list[RunInfo]:
    """The runs to read: the named ``runs`` (an unknown id is an error), every run, or the latest per analyzer."""
    if runs:
        known = {r.run_id: r for r in list_runs(dataset_dir)}
        missing = [r for r in runs if r not in known]
        if missing:
            raise FindingsStoreError(
                both(
                    f"{store_dir(dataset_dir)} 中没有运行：{', '.join(missing)}",
                    f"no such run in {store_dir(dataset_dir)}: {', '.join(missing)}",
                )
            )
        picked = list(dict.fromkeys(runs))
        chosen = [known[r] for r in picked]
        return [r for r in chosen if not analyzers or r.analyzer in analyzers]
    if all_runs:
        return list_runs(dataset_dir, analyzers)
    return latest_runs(dataset_dir, analyzers)


def get_run(dataset_dir: str | Path, run_id: str) -> RunInfo:
    """One run by id (an unknown id is an error)."""
    return select_runs(dataset_dir, runs=[run_id])[0]


def read_run(run: RunInfo, columns: list[str] | None = None) -> pa.Table:
    """The findings of one run."""
    return pq.read_table(run.findings_path, columns=columns)


def load_findings(
    dataset_dir: str | Path,
    runs: list[str] | None = None,
    analyzers: list[str] | None = None,
    *,
    all_runs: bool = False,
    columns: list[str] | None = None,
) -> pa.Table:
    """Findings from the dataset's store: by default the latest run of each analyzer; ``runs`` names runs,
    ``all_runs`` reads every run. An empty store gives an empty table of the findings shape."""
    chosen = select_runs(dataset_dir, runs, analyzers, all_runs)
    return read_runs(chosen, columns)


def read_runs(chosen: list[RunInfo], columns: list[str] | None = None) -> pa.Table:
    """The findings of ``chosen`` runs, concatenated (findings shape)."""
    schema = FINDINGS_SCHEMA if columns is None else pa.schema([FINDINGS_SCHEMA.field(c) for c in columns])
    tables = [read_run(r, columns).cast(schema) for r in chosen]
    if not tables:
        return schema.empty_table()
    return pa.concat_tables(tables)


def copy_run(run: RunInfo, path: str | Path) -> Path:
    """Write an extra copy of a run's findings to ``path`` (through a temporary file; ``--out`` options)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        shutil.copyfile(run.findings_path, tmp)
    return path


def _write_json(path: Path, record: dict[str, Any]) -> None:
    write_text(path, json.dumps(record, ensure_ascii=False, indent=2, default=str))
