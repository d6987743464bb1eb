"""One ingest run in DuckDB: open the sources, then read, check and write each table.

:func:`process_table` takes the usual path first (:func:`_fast_path`): one pass per source writing only the
good rows, then a duplicate-key check; bad rows are re-read only when there are some. A repeated key (or a
table referring to itself) takes the full path, which writes a typed work file with row numbers first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from gridaudit.contract.spec import load_contract
from gridaudit.dataset import StagedVersion
from gridaudit.ingest import tablework as tw
from gridaudit.ingest.checks import DEFAULT_PERIOD_TOLERANCE_MONTHS, today_literals
from gridaudit.ingest.coerce import ident, lit
from gridaudit.ingest.encoding import prepare_csv
from gridaudit.ingest.errors import SourceProblem, UnusableSource, engine_message, unusable, vanished
from gridaudit.ingest.readers import RawRelation, csv_relation, parquet_relation
from gridaudit.ingest.sources import Source
from gridaudit.ingest.xlsx import xlsx_relation

QUARANTINE_DIR = "_quarantine"
# A record number -> the line in the source file, counting the empty lines DuckDB skipped (blank_lines holds
# each source's empty lines with their rank idx: record r lies after the j-th one iff line_j - j < r).
SOURCE_ROW = "({row} + (SELECT count(*) FROM blank_lines b WHERE b.source_id = {src} AND b.line - b.idx < {row}))"


Progress = Any


@dataclass
class IngestSettings:
    """Resources, the reference date and the tolerances of an ingest (the contract says which columns are
    checked; ``period_tolerance_months`` says how far a ``period_dates`` date may lie from its period's month:
    0 = the same month, 1 (default) = also the month before or after, as reads near a month's end happen)."""

    memory_limit: str = "2GB"
    threads: int | None = None
    today: dt.date | None = None
    period_tolerance_months: int = DEFAULT_PERIOD_TOLERANCE_MONTHS


def order_tables(tables: set[str]) -> list[str]:
    """Tables in foreign-key order (referenced tables first)."""
    contract = load_contract()
    done: list[str] = []

    def visit(t: str, stack: tuple[str, ...]) -> None:
        if t in done or t in stack:
            return
        for ref in contract.tables[t].foreign_keys.values():
            rt = ref.split(".")[0]
            if rt in tables and rt != t:
                visit(rt, (*stack, t))
        done.append(t)

    for t in sorted(tables):
        visit(t, ())
    return done


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def file_sha(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in chunks."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


class Run:
    """One ingest run: the staging folder, the DuckDB connection and the sources."""

    def __init__(self, staged: StagedVersion, settings: IngestSettings, progress: Progress) -> None:
        self.staged = staged
        self.work = staged.path / "_work"
        self.work.mkdir()
        (self.work / "tmp").mkdir()
        self.progress = progress
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        self.con.execute(f"SET memory_limit = {lit(settings.memory_limit)}")
        self.con.execute(f"SET temp_directory = {lit(str(self.work / 'tmp'))}")
        if settings.threads:
            self.con.execute(f"SET threads = {int(settings.threads)}")
        today = settings.today or dt.date.today()
        self.today = today_literals(today)
        if settings.period_tolerance_months < 0:
            raise unusable("period_tolerance_months", "须 ≥ 0", "must be ≥ 0")
        self.period_tolerance = int(settings.period_tolerance_months)

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.con.close()


def prepare_sources(
    run: Run, sources: list[Source], mapping: Any
) -> tuple[list[RawRelation], dict[int, tuple[int, int, int] | None]]:
    """Decode, hash and open every source; collect every unusable one before failing."""
    problems: list[SourceProblem] = []
    rels: list[RawRelation] = []
    stats: dict[int, tuple[int, int, int] | None] = {}
    for i, s in enumerate(sources):
        run.progress("open", {"source": s.name, "table": s.table})
        stats[i] = _stat(s.path) if s.path.is_file() else None
        try:
            view = f"raw_{i}"
            if s.kind == "csv":
                tf = prepare_csv(s.path, s.name, run.work)
                s.sha256, s.size, s.encoding, s.blank_lines = tf.sha256, tf.size, tf.encoding, tf.blank_lines
                s.expected_rows = tf.records
                rels.append(csv_relation(run.con, s, str(tf.path), view, mapping))
            elif s.kind == "parquet":
                s.sha256, s.size = file_sha(s.path)
                s.expected_rows = pq.ParquetFile(s.path).metadata.num_rows
                rels.append(parquet_relation(run.con, s, view, mapping))
            else:
                s.sha256, s.size = file_sha(s.path)
                rels.append(xlsx_relation(run.con, s, view, mapping))
        except UnusableSource as exc:
            problems.extend((vanished(s.name) if _changed(s, stats[i]) else exc).problems)
        except OSError as exc:  # deleted between finding and opening, or unreadable
            if not s.path.exists() or _changed(s, stats[i]):
                problems.extend(vanished(s.name).problems)
            else:
                problems.append(SourceProblem(s.name, f"无法读取: {exc.strerror}", f"cannot be read: {exc.strerror}"))
    if problems:
        raise UnusableSource(problems)
    return rels, stats


def _changed(s: Source, before: tuple[int, int, int] | None) -> bool:
    return before is not None and _stat(s.path) != before


def check_source_still_there(s: Source, before: tuple[int, int, int] | None) -> None:
    """Refuse a source file that was deleted, replaced or changed since it was opened."""
    if _changed(s, before):
        raise vanished(s.name)


@contextmanager
def read_boundary(s: Source, before: tuple[int, int, int] | None) -> Iterator[None]:
    """Wrap a DuckDB read of a source: a file that vanished or changed meanwhile is said so plainly; any
    other engine error is reported by its first line, never with its SQL. Checks the file again after."""
    try:
        yield
    except duckdb.Error as exc:
        check_source_still_there(s, before)
        msg = engine_message(exc)
        raise unusable(s.name, f"读取失败: {msg}", f"read failed: {msg}") from exc
    check_source_still_there(s, before)


def process_table(
    run: Run, table: str, rels: list[tuple[int, RawRelation]], stats: dict, mapping: Any, written: dict[str, str]
) -> tw.TableOutcome:
    """Read, check and write one table; its failures go to ``all_failures``, its bad rows to the quarantine."""
    spec = load_contract().table(table)
    con = run.con
    outcome = tw.TableOutcome()
    fk_refs: dict[str, tuple[str, str, str]] = {}
    for col, ref in spec.foreign_keys.items():
        rt, rc = ref.split(".")
        if rt == table:
            continue  # self-reference: checked after reading, against the rows of this ingest too
        glob = written.get(rt)
        if glob is None and run.staged.parent is not None and run.staged.parent.has(rt):
            glob = run.staged.parent.table_glob(rt)
        if glob is None:
            if any(col in rr.columns for _, rr in rels):
                run.progress("skip_fk", {"table": table, "column": col, "ref": rt})
            continue
        fk_refs[col] = (rt, rc, glob)
    if _fast_path(run, spec, rels, stats, mapping, fk_refs, written, outcome):
        return outcome
    con.execute("SET preserve_insertion_order = true")
    for i, rr in rels:
        run.progress("recheck" if outcome.reread else "read", {"source": rr.source.name, "table": table})
        out = run.work / f"{table}__{i}.parquet"
        with read_boundary(rr.source, stats.get(i)):
            tw.pass_one(con, rr, spec, mapping, i, out, run.today, fk_refs, period_tolerance=run.period_tolerance)
        outcome.present |= set(rr.columns)
    con.execute("SET preserve_insertion_order = false")
    work_glob = str(run.work / f"{table}__*.parquet")
    work = f"w_{table}"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {ident(work)} AS "
        f"SELECT * FROM read_parquet({lit(work_glob)}, union_by_name = true)"
    )
    counts = dict(
        (int(s), (int(n), int(b)))
        for s, n, b in con.execute(
            f"SELECT __src, count(*), count(*) FILTER (WHERE __bad) FROM {ident(work)} GROUP BY 1"
        ).fetchall()
    )
    for i, rr in rels:
        if counts.get(i, (0, 0))[0] == 0:
            raise unusable(rr.source.name, "只有表头, 没有数据行", "header only: no data rows", row=2)
    extras = sorted({e for _, rr in rels for e in rr.extras})
    n_bad = sum(b for _, b in counts.values())
    if n_bad:
        work_cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {ident(work)}").fetchall()}
        failures = tw.row_failures(
            spec, ident(work), outcome.present, run.today, fk_refs, work_cols, period_tolerance=run.period_tolerance
        )
        con.execute(f"INSERT INTO all_failures {failures}")
    work_cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {ident(work)}").fetchall()}
    warnings = tw.row_failures(spec, ident(work), outcome.present, run.today, fk_refs, work_cols, "warning")
    if warnings:
        con.execute(f"INSERT INTO all_failures {warnings}")
    later: list[str] = []
    key_fail, n_diff, n_same = tw.check_keys(con, spec, ident(work))
    if n_diff:
        later.append(key_fail)
    for col, ref in spec.foreign_keys.items():
        rt, rc = ref.split(".")
        if rt == table and col in outcome.present:
            later.append(tw.fk_failures(spec, ident(work), col, rt, rc, work_glob))
    con.execute("CREATE OR REPLACE TEMP TABLE rejects (source_id INT, row BIGINT)")
    has_rejects = False
    if later:
        con.execute(f"CREATE OR REPLACE TEMP TABLE later_failures AS {' UNION ALL '.join(later)}")
        con.execute("INSERT INTO all_failures SELECT * FROM later_failures")
        con.execute("INSERT INTO rejects SELECT DISTINCT source_id, row FROM later_failures WHERE severity = 'error'")
        has_rejects = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0] > 0
    n_rej = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    outcome.rejected = int(n_bad + n_rej)
    outcome.duplicates_dropped = n_same
    accepted = tw.accepted_sql(spec, ident(work), extras, has_rejects, n_same)
    new_path = run.work / f"{table}.new.parquet"
    con.execute(f"COPY ({accepted}) TO {lit(str(new_path))} (FORMAT parquet)")
    _publish(run, spec, new_path, outcome, written)
    if outcome.rejected:
        _write_quarantine(run, spec, ident(work), extras, outcome.present)
    return outcome


def _write_quarantine(run: Run, spec: Any, work: str, extras: list[str], present: set[str]) -> None:
    """Keep the rejected rows (their source text) in ``_quarantine/<table>.parquet`` of the new version."""
    raws = ", ".join(
        f"coalesce({ident(tw.raw_name(c))}, CAST({ident(c)} AS VARCHAR)) AS {ident(c)}"
        if c in present
        else f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}"
        for c in spec.columns
    )
    ex = "".join(f", {ident(e)}" for e in extras)
    qdir = run.staged.path / QUARANTINE_DIR
    qdir.mkdir(exist_ok=True)
    run.con.execute(
        f"COPY (SELECT n.source, {SOURCE_ROW.format(src='w.__src', row='w.__row')} AS row, {raws}{ex} "
        f"FROM {work} w "
        f"JOIN source_names n ON n.source_id = w.__src "
        f"WHERE __bad OR EXISTS (SELECT 1 FROM rejects r WHERE r.source_id = w.__src AND r.row = w.__row)) "
        f"TO {lit(str(qdir / f'{spec.name}.parquet'))} (FORMAT parquet)"
    )


def _publish(run: Run, spec: Any, new_path: Path, outcome: tw.TableOutcome, written: dict[str, str]) -> None:
    """Make the accepted rows in ``new_path`` the table of the new version: merged by key into the previous
    version's table if there is one (or carried over when nothing changed), else moved in place."""
    table = spec.name
    parent = run.staged.parent
    final = run.staged.path / f"{table}.parquet"
    outcome.accepted = pq.ParquetFile(new_path).metadata.num_rows
    if parent is not None and parent.has(table):
        tw.merge(run.con, spec, new_path, parent.table_glob(table), final, outcome)
        if not outcome.changed:
            run.staged.link_from_parent(table)
    else:
        os.replace(new_path, final)
        outcome.inserted = outcome.accepted
        outcome.changed = outcome.accepted > 0
    carried = not outcome.changed and parent is not None and parent.has(table)
    written[table] = parent.table_glob(table) if carried and parent is not None else str(final)


def _fast_path(
    run: Run,
    spec: Any,
    rels: list[tuple[int, RawRelation]],
    stats: dict,
    mapping: Any,
    fk_refs: dict[str, tuple[str, str, str]],
    written: dict[str, str],
    outcome: tw.TableOutcome,
) -> bool:
    """The usual path: one pass per source writing only the good rows, then a duplicate-key check.

    If no key repeats, the good rows are the accepted rows; a source that yielded fewer good rows than it
    holds is read once more to number and list its bad rows (:func:`_list_bad_rows`). If a key repeats, the
    files are dropped and the caller runs the full path (which can tell which rows share a key).
    """
    con, table = run.con, spec.name
    if any(rr.source.expected_rows is None or rr.source.expected_rows <= 0 for _, rr in rels):
        return False
    if any(
        ref.split(".")[0] == table and col in rr.columns for col, ref in spec.foreign_keys.items() for _, rr in rels
    ):
        return False  # a self-reference needs this ingest's rows: full path
    con.execute("SET preserve_insertion_order = false")
    files, short = [], []
    for i, rr in rels:
        run.progress("read", {"source": rr.source.name, "table": table})
        out = run.work / f"{table}__{i}.good.parquet"
        with read_boundary(rr.source, stats.get(i)):
            n = tw.pass_one(
                con, rr, spec, mapping, i, out, run.today, fk_refs, mode="good", period_tolerance=run.period_tolerance
            )
        files.append(out)
        if n != rr.source.expected_rows:
            short.append((i, rr))
    glob = str(run.work / f"{table}__*.good.parquet")
    keys = tw.key_expr(spec)
    dups = con.execute(
        f"SELECT count(*) FROM (SELECT hash({keys}) AS h FROM read_parquet({lit(glob)}, union_by_name = true) "
        f"GROUP BY 1 HAVING count(*) > 1)"
    ).fetchall()[0][0]
    if dups:
        for f in files:
            f.unlink(missing_ok=True)
        outcome.reread = True
        return False
    outcome.present = {c for _, rr in rels for c in rr.columns}
    if short:
        _list_bad_rows(run, spec, short, stats, mapping, fk_refs, outcome)
    _list_warnings(run, spec, list(zip(rels, files, strict=True)), stats, mapping, fk_refs)
    new_path = files[0]
    if len(files) > 1:
        new_path = run.work / f"{table}.new.parquet"
        con.execute(
            f"COPY (SELECT * FROM read_parquet({lit(glob)}, union_by_name = true)) TO {lit(str(new_path))} "
            "(FORMAT parquet)"
        )
    _publish(run, spec, new_path, outcome, written)
    return True


def _list_bad_rows(
    run: Run,
    spec: Any,
    short: list[tuple[int, RawRelation]],
    stats: dict,
    mapping: Any,
    fk_refs: dict[str, tuple[str, str, str]],
    outcome: tw.TableOutcome,
) -> None:
    """Sources that yielded fewer good rows than they hold: read them again, numbering rows, and keep only
    the bad rows (with their source text) to list every failure and fill the quarantine."""
    con, table = run.con, spec.name
    con.execute("SET preserve_insertion_order = true")
    for i, rr in short:
        run.progress("recheck", {"source": rr.source.name, "table": table})
        out = run.work / f"{table}__{i}.bad.parquet"
        with read_boundary(rr.source, stats.get(i)):
            tw.pass_one(
                con, rr, spec, mapping, i, out, run.today, fk_refs, mode="bad", period_tolerance=run.period_tolerance
            )
    con.execute("SET preserve_insertion_order = false")
    work = ident(f"b_{table}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {work} AS SELECT * FROM "
        f"read_parquet({lit(str(run.work / f'{table}__*.bad.parquet'))}, union_by_name = true)"
    )
    n_bad = con.execute(f"SELECT count(*) FROM {work}").fetchall()[0][0]
    if n_bad:
        work_cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {work}").fetchall()}
        failures = tw.row_failures(
            spec, work, outcome.present, run.today, fk_refs, work_cols, period_tolerance=run.period_tolerance
        )
        con.execute(f"INSERT INTO all_failures {failures}")
        con.execute("CREATE OR REPLACE TEMP TABLE rejects (source_id INT, row BIGINT)")
        extras = sorted({e for _, rr in short for e in rr.extras})
        _write_quarantine(run, spec, work, extras, outcome.present)
    outcome.rejected = int(n_bad)


def _list_warnings(
    run: Run,
    spec: Any,
    sources: list[tuple[tuple[int, RawRelation], Path]],
    stats: dict,
    mapping: Any,
    fk_refs: dict[str, tuple[str, str, str]],
) -> None:
    """The usual path's warnings: an optional foreign key naming nothing keeps its row. Count them in each
    source's good rows; read only a source that has some once more, numbering rows, to list them."""
    con, table = run.con, spec.name
    soft = {c: ref for c, ref in fk_refs.items() if spec.fk_severity(c) == "warning"}
    if not soft:
        return
    for (i, rr), good in sources:
        tests = [
            f"({ident(c)} IS NOT NULL AND {ident(c)} NOT IN (SELECT {ident(rc)} FROM "
            f"read_parquet({lit(glob)}, union_by_name = true) WHERE {ident(rc)} IS NOT NULL))"
            for c, (_, rc, glob) in sorted(soft.items())
            if c in rr.columns
        ]
        if not tests:
            continue
        n = con.execute(f"SELECT count(*) FROM read_parquet({lit(str(good))}) WHERE {' OR '.join(tests)}").fetchall()
        if not n[0][0]:
            continue
        run.progress("recheck", {"source": rr.source.name, "table": table})
        out = run.work / f"{table}__{i}.warn.parquet"
        con.execute("SET preserve_insertion_order = true")
        with read_boundary(rr.source, stats.get(i)):
            tw.pass_one(
                con, rr, spec, mapping, i, out, run.today, fk_refs, mode="warn", period_tolerance=run.period_tolerance
            )
        con.execute("SET preserve_insertion_order = false")
        view = f"read_parquet({lit(str(out))})"
        work_cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()}
        present = set(rr.columns)
        sql = tw.row_failures(spec, view, present, run.today, fk_refs, work_cols, "warning")
        if sql:
            con.execute(f"INSERT INTO all_failures {sql}")
