"""``ingest()``: sources -> validated, merged, versioned dataset (the public API of this part)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gridaudit.dataset import (
    Dataset,
    DatasetBusy,
    DatasetLock,
    StagedVersion,
    commit_version,
    discard_version,
    lock_dataset,
    stage_version,
)
from gridaudit.ingest import tablework as tw
from gridaudit.ingest.errors import SourceProblem, UnusableSource, unusable
from gridaudit.ingest.mapping import load_mapping
from gridaudit.ingest.readers import RawRelation
from gridaudit.ingest.run import (
    SOURCE_ROW,
    IngestSettings,
    Run,
    order_tables,
    prepare_sources,
    process_table,
)
from gridaudit.ingest.sources import Source, discover, skipped_file
from gridaudit.ingest.xlsx import sheet_sources

FAILURE_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("source", pa.string()),
        ("row", pa.int64()),
        ("column_name", pa.string()),
        ("check_name", pa.string()),
        ("value", pa.string()),
        ("message_zh", pa.string()),
        ("message_en", pa.string()),
        ("severity", pa.string()),  # error: the row was rejected; warning: the row was kept
    ]
)
FAILURES_TABLE = "failure_cases"
REJECTED_DIR = ".rejected"


@dataclass
class IngestResult:
    """What an ingest did. ``exit_code``: 0 clean (warnings allowed: their rows are kept), 1 rows rejected,
    2 unusable input (nothing written). ``failures`` holds errors and warnings (column ``severity``)."""

    dataset: Dataset | None
    rows: dict[str, int]
    rejected: dict[str, int]
    failures: pa.Table
    exit_code: int
    changed: bool
    errors: list[str] = field(default_factory=list)
    failures_path: Path | None = None
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[SourceProblem] = field(default_factory=list)  # files and sheets left out, with the reason


Progress = Callable[[str, dict[str, Any]], None]


def _unchanged_fast(parent: Dataset | None, sources: list[Source], mapping_sha: str) -> bool:
    """Whether exactly the sources (by content) and mapping of the current version are given again."""
    if parent is None:
        return False
    before = parent.manifest.get("sources", [])
    key = sorted((s.get("sha256", ""), s.get("table", ""), s.get("sheet") or "") for s in before)
    now = sorted((s.sha256, s.table, s.sheet or "") for s in sources)
    return bool(key) and key == now and parent.manifest.get("mapping_sha256", "") == mapping_sha


def count_errors(failures: pa.Table) -> int:
    """Failure cases that rejected a row (warnings kept theirs; a ``failure_cases`` table written before
    severities existed holds errors only)."""
    if "severity" not in failures.column_names:
        return failures.num_rows
    warnings = pc.sum(pc.cast(pc.equal(failures["severity"], "warning"), pa.int64())).as_py() or 0
    return failures.num_rows - int(warnings)


def _empty_failures() -> pa.Table:
    return FAILURE_SCHEMA.empty_table()


def ingest(
    sources: Sequence[str | Path],
    dataset_dir: str | Path,
    *,
    strict: bool = False,
    mapping: str | Path | None = None,
    from_sql: str | None = None,
    show_progress: bool = False,
    settings: IngestSettings | None = None,
    on_event: Progress | None = None,
) -> IngestResult:
    """Ingest utility exports into the versioned dataset at ``dataset_dir``.

    Files and folders in ``sources`` (CSV in UTF-8/GBK/GB18030, XLSX, Parquet) and, with ``from_sql``, the
    contract tables of a PostgreSQL replica are validated; bad rows go to the ``failure_cases`` table and
    the quarantine, good rows are merged by key into a new version that replaces the current one
    atomically. ``strict`` writes nothing if any row fails. Unusable input (exit code 2) writes nothing.
    """
    settings = settings or IngestSettings()
    if isinstance(sources, str | Path):
        sources = [sources]
    from gridaudit.ingest.report import progress_printer

    printer = progress_printer() if show_progress else None

    def progress(event: str, info: dict[str, Any]) -> None:
        if printer:
            printer(event, info)
        if on_event:
            on_event(event, info)

    root = Path(dataset_dir)
    staged: StagedVersion | None = None
    run: Run | None = None
    lock: DatasetLock | None = None
    skipped: list[SourceProblem] = []
    try:
        # what needs no dataset folder comes first: a missing or misnamed source creates nothing
        m = load_mapping(mapping)
        skipped_files: list[Path] = []
        found = discover([Path(s) for s in sources], m, skipped_files) if sources else []
        for f in skipped_files:
            progress("skip_file", {"source": str(f)})
            skipped.append(skipped_file(str(f)))
        expanded: list[Source] = []
        for s in found:
            if s.kind != "xlsx":
                expanded.append(s)
                continue
            before = len(skipped)
            expanded.extend(sheet_sources(s, m, skipped))
            for p in skipped[before:]:
                progress("skip_sheet", {"source": p.source, "reason": p.text()})
        lock = _lock(root)
        staged = stage_version(root)
        run = Run(staged, settings, progress)
        if from_sql:
            from gridaudit.ingest.sqlsource import sql_sources

            expanded.extend(sql_sources(from_sql, m, run.work))
        if not expanded:
            raise unusable(str(root), "没有给出任何来源", "no sources given")
        rels, stats = prepare_sources(run, expanded, m)
        parent = staged.parent
        if _unchanged_fast(parent, expanded, m.sha256):
            assert parent is not None
            unchanged = _unchanged_result(parent, expanded)
            unchanged.skipped = skipped
            return unchanged
        by_table: dict[str, list[tuple[int, RawRelation]]] = {}
        for i, rr in enumerate(rels):
            by_table.setdefault(rr.source.table, []).append((i, rr))
        written: dict[str, str] = {}
        outcomes: dict[str, tw.TableOutcome] = {}
        names = pa.table(
            {"source_id": pa.array(range(len(expanded)), pa.int32()), "source": [s.name for s in expanded]}
        )
        run.con.register("source_names", names)
        blanks = [(i, line, j + 1) for i, s in enumerate(expanded) for j, line in enumerate(s.blank_lines)]
        run.con.register(
            "blank_lines",
            pa.table(
                {
                    "source_id": pa.array([b[0] for b in blanks], pa.int32()),
                    "line": pa.array([b[1] for b in blanks], pa.int64()),
                    "idx": pa.array([b[2] for b in blanks], pa.int64()),
                }
            ),
        )
        run.con.execute(
            "CREATE TEMP TABLE all_failures (table_name VARCHAR, source_id INT, row BIGINT, column_name VARCHAR, "
            "check_name VARCHAR, value VARCHAR, message_zh VARCHAR, message_en VARCHAR, severity VARCHAR)"
        )
        for table in order_tables(set(by_table)):
            outcomes[table] = process_table(run, table, by_table[table], stats, m, written)
        failures = _collect_failures(run)
        quarantine = [t for t, o in outcomes.items() if o.rejected]
        rows = {t: o.accepted for t, o in outcomes.items()}
        rejected = {t: o.rejected for t, o in outcomes.items()}
        tables = {
            t: {
                k: getattr(o, k)
                for k in ("accepted", "rejected", "duplicates_dropped", "inserted", "updated", "unchanged")
            }
            for t, o in outcomes.items()
        }
        n_errors = count_errors(failures)
        exit_code = 1 if n_errors else 0
        changed = any(o.changed for o in outcomes.values())
        result = IngestResult(
            dataset=parent,
            rows=rows,
            rejected=rejected,
            failures=failures,
            exit_code=exit_code,
            changed=False,
            tables=tables,
            sources=[s.record() for s in expanded],
            skipped=skipped,
        )
        if (strict and n_errors) or not changed:
            for t in tables.values():  # nothing is written: say so, not what would have been
                t["inserted"] = t["updated"] = 0
            if failures.num_rows:
                result.failures_path = _save_rejected(root, failures)
            return result
        pq.write_table(failures, staged.path / f"{FAILURES_TABLE}.parquet")
        if parent is not None:
            for name in parent.tables():
                if name not in outcomes and name != FAILURES_TABLE:
                    staged.link_from_parent(name)
        run.close()
        run = None
        shutil.rmtree(staged.path / "_work", ignore_errors=True)
        progress("commit", {"dataset": str(root)})
        ds = commit_version(
            staged,
            {
                "sources": result.sources,
                "mapping_sha256": m.sha256,
                "ingest": tables,
                "rejected": rejected,
                "failures": failures.num_rows,
                "quarantine": sorted(quarantine),
            },
        )
        staged = None
        result.dataset, result.changed = ds, True
        result.failures_path = ds.path / f"{FAILURES_TABLE}.parquet"
        return result
    except UnusableSource as exc:
        parent_ds = staged.parent if staged else _current(root)
        return IngestResult(
            dataset=parent_ds,
            rows={},
            rejected={},
            failures=_empty_failures(),
            exit_code=2,
            changed=False,
            errors=[p.text() for p in exc.problems],
            skipped=skipped,
        )
    finally:
        if run is not None:
            run.close()
        if staged is not None:
            discard_version(staged)
        if lock is not None:
            lock.release()


def _lock(root: Path) -> DatasetLock:
    """Hold ``DIR/.ingest.lock`` for the whole ingest: one writer at a time (a second one is refused)."""
    lock = lock_dataset(root)
    try:
        return lock.__enter__()
    except DatasetBusy:
        raise unusable(
            str(root),
            "另一个导入正在写入此数据集, 请稍后再试",
            "another ingest is writing this dataset; try again when it ends",
        ) from None


def _current(root: Path) -> Dataset | None:
    from gridaudit.dataset import is_dataset, open_dataset

    return open_dataset(root) if is_dataset(root) else None


def _unchanged_result(parent: Dataset, sources: list[Source]) -> IngestResult:
    failures = parent.read(FAILURES_TABLE) if parent.has(FAILURES_TABLE) else _empty_failures()
    rejected = {k: int(v) for k, v in parent.manifest.get("rejected", {}).items()}
    rows = {t: int(v.get("accepted", 0)) for t, v in parent.manifest.get("ingest", {}).items()}
    # the same bytes again: every row accepted then is already there; none is new
    tables = {
        t: {
            "accepted": int(v.get("accepted", 0)),
            "rejected": int(v.get("rejected", 0)),
            "duplicates_dropped": int(v.get("duplicates_dropped", 0)),
            "inserted": 0,
            "updated": 0,
            "unchanged": int(v.get("accepted", 0)),
        }
        for t, v in parent.manifest.get("ingest", {}).items()
    }
    return IngestResult(
        dataset=parent,
        rows=rows,
        rejected=rejected,
        failures=failures,
        exit_code=1 if count_errors(failures) else 0,
        changed=False,
        failures_path=parent.path / f"{FAILURES_TABLE}.parquet" if parent.has(FAILURES_TABLE) else None,
        tables=tables,
        sources=[s.record() for s in sources],
    )


def _collect_failures(run: Run) -> pa.Table:
    tbl = run.con.sql(
        f"SELECT f.table_name, n.source, {SOURCE_ROW.format(src='f.source_id', row='f.row')} AS row, "
        "f.column_name, f.check_name, f.value, f.message_zh, f.message_en, f.severity "
        "FROM all_failures f JOIN source_names n ON n.source_id = f.source_id "
        "ORDER BY n.source, f.row, f.column_name, f.check_name"
    ).to_arrow_table()
    return tbl.cast(FAILURE_SCHEMA)


def _save_rejected(root: Path, failures: pa.Table) -> Path:
    """Failure cases of an ingest that wrote no version (``--strict``, or nothing changed)."""
    d = root / REJECTED_DIR
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"failure_cases-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.parquet"
    pq.write_table(failures, path)
    return path
