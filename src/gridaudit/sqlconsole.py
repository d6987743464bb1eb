"""The read-only SQL console (SQL 查询台): one SELECT over a dataset, for auditors and audit leads.

A query goes through the rules' sandbox first (:func:`gridaudit.rules.safety.check_rule_sql`: exactly one
SELECT/WITH statement, no function that reads files or reveals settings, only the dataset's tables), then runs
on a DuckDB engine of its own, locked down (:meth:`DuckDBEngine.lock_down`: no file access outside the dataset,
configuration locked), under a time limit (the query is interrupted) and a row cap (at most ``row_cap`` rows
come back; ``truncated`` says there were more). Both limits are :class:`ConsoleSettings`.

Who: an active auditor or audit lead whose unit scope covers the whole dataset (unbound, or bound to a unit
whose tree holds every unit of the dataset): the console reads every table whole, so a user limited to a
part of the utility may not use it. Every query a permitted user submits — run, refused by the
sandbox, failed or stopped by the time limit — is an event ``sql_query`` in the audit trail under that user.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa

from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.dataset import Dataset
from gridaudit.i18n import Text

CONSOLE_ROLES = ("auditor", "audit_lead")
ACTION = "sql_query"


@dataclass(frozen=True)
class ConsoleSettings:
    """Limits of the SQL console.

    ``time_limit_seconds``: a query still running after this is interrupted. ``row_cap``: at most this many
    rows come back (the page and the CSV download say the result was cut). ``threads`` / ``memory_limit``:
    the DuckDB resources one console query may use. ``max_sql_chars``: longer SQL text is refused unread."""

    time_limit_seconds: float = 10.0
    row_cap: int = 10_000
    threads: int = 2
    memory_limit: str = "1GB"
    max_sql_chars: int = 20_000


DEFAULT_CONSOLE = ConsoleSettings()


class ConsoleError(AuditError):
    """A console query that was refused (sandbox), failed (engine) or ran out of time; ``status`` says which."""

    def __init__(self, status: str, text: Text) -> None:
        super().__init__(text)
        self.status = status


@dataclass
class ConsoleResult:
    """The rows of a console query (at most the row cap), whether more existed, and how long it took."""

    table: pa.Table
    truncated: bool
    elapsed_ms: int
    row_cap: int

    def csv(self) -> bytes:
        """The result as UTF-8 CSV with a header row (nested values as JSON text)."""
        import pyarrow.csv as pcsv

        buf = io.BytesIO()
        pcsv.write_csv(_flat(self.table), buf)
        return buf.getvalue()

    def rows(self) -> list[list[Any]]:
        """The result as lists of Python values, one per row (for a page or a JSON answer)."""
        cols = [c.to_pylist() for c in self.table.columns]
        return [list(r) for r in zip(*cols, strict=True)] if cols else []


def _flat(table: pa.Table) -> pa.Table:
    """``table`` with nested columns (lists, structs, maps) turned into JSON text, which CSV can hold."""
    out = table
    for i, f in enumerate(table.schema):
        if pa.types.is_nested(f.type):
            values = table.column(i).to_pylist()
            text = [None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in values]
            out = out.set_column(i, f.name, pa.array(text, pa.string()))
    return out


def dataset_units(dataset: Dataset) -> set[str]:
    """The units a dataset holds data of (its ``units`` table, and the units its customers name); cached per
    dataset version (a version never changes once written)."""
    return set(_units_of(str(dataset.root.resolve()), dataset.version))


@lru_cache(maxsize=8)
def _units_of(root: str, version: str) -> frozenset[str]:
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    dataset = open_dataset(root, version)
    parts = [f"select cast(unit_id as varchar) u from {t}" for t in ("units", "customers") if dataset.has(t)]
    if not parts:
        return frozenset()
    engine = open_engine(dataset)
    try:
        got = engine.query(f"select distinct u from ({' union all '.join(parts)}) q where u is not null")
    finally:
        engine.close()
    return frozenset(got.column("u").to_pylist())


def check_console_user(session: Any, user_id: str | None, units: set[str] | None = None) -> Any:
    """The acting user, if they may use the console: an active auditor or audit lead whose unit scope
    (``access.visible_units``) covers ``units`` (the dataset's, :func:`dataset_units`; None: only users who
    see every unit). Otherwise ``Forbidden`` (``NotFound`` for an unknown user)."""
    from gridaudit.audit.access import visible_units
    from gridaudit.audit.users import get_user

    user = get_user(session, user_id)
    if user.role not in CONSOLE_ROLES:
        raise Forbidden(
            f"只有稽查员和稽查组长可以使用 SQL 查询台（{user.user_id} 是 {user.role}）",
            f"only auditors and audit leads may use the SQL console ({user.user_id} is {user.role})",
        )
    scope = visible_units(session, user)
    if scope is not None and (units is None or not units <= scope):
        outside = sorted((units or set()) - scope)
        raise Forbidden(
            f"SQL 查询台读取整个数据集；{user.user_id} 的范围限于单位 {user.unit_id} 及其下级"
            + (f"，不含 {', '.join(outside[:5])}" if outside else ""),
            f"the SQL console reads the whole dataset; {user.user_id} is limited to unit {user.unit_id} and the "
            "units under it" + (f", not {', '.join(outside[:5])}" if outside else ""),
        )
    return user


def may_use_console(session: Any, user_id: str | None, units: set[str] | None = None) -> bool:
    """Whether ``check_console_user`` lets ``user_id`` in (for showing or hiding the console's link)."""
    try:
        check_console_user(session, user_id, units)
    except AuditError:
        return False
    return True


def check_query(sql: str, tables: set[str], settings: ConsoleSettings = DEFAULT_CONSOLE) -> Any:
    """The parsed query if ``sql`` is one read-only SELECT over ``tables`` without parameters (the rules'
    sandbox, :func:`gridaudit.rules.safety.check_rule_sql`); else ``ConsoleError`` with status ``refused``."""
    from gridaudit.rules.safety import UnsafeSQL, check_rule_sql, param_names

    if not sql.strip():
        raise ConsoleError("refused", Text("请输入一条 SELECT 查询", "enter one SELECT query"))
    if len(sql) > settings.max_sql_chars:
        raise ConsoleError(
            "refused",
            Text(
                f"SQL 过长（{len(sql)} 个字符，上限 {settings.max_sql_chars}）",
                f"SQL too long ({len(sql)} characters, at most {settings.max_sql_chars})",
            ),
        )
    try:
        tree = check_rule_sql(sql, tables)
    except UnsafeSQL as exc:
        raise ConsoleError("refused", _text(exc)) from None
    names = sorted(param_names(tree))
    if names:
        raise ConsoleError(
            "refused",
            Text(
                f"查询台不支持参数（${', $'.join(names)}）：请直接写入取值",
                f"the console takes no parameters (${', $'.join(names)}): write the values in the query",
            ),
        )
    return tree


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _text(exc: Exception) -> Text:
    """A sandbox refusal as a Text (terminal colours of sqlglot's parse errors removed)."""
    zh, en = getattr(exc, "zh", str(exc)), getattr(exc, "en", str(exc))
    return Text(ANSI.sub("", zh), ANSI.sub("", en))


def _engine_message(exc: Exception, dataset: Dataset) -> str:
    """The first line of an engine error, without the dataset's folder (a user needs the reason, not paths)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for folder in {str(dataset.path.resolve()), str(dataset.path), str(dataset.root.resolve()), str(dataset.root)}:
        first = first.replace(folder, "<dataset>")
    return first[:500]


def execute(dataset: Dataset, sql: str, settings: ConsoleSettings = DEFAULT_CONSOLE) -> ConsoleResult:
    """Run ``sql`` on ``dataset`` under the sandbox and the limits (no audit trail: :func:`run_query` records).

    Raises ``ConsoleError`` with status ``refused`` (sandbox), ``timeout`` (time limit) or ``error`` (engine)."""
    from gridaudit.engines import EngineSettings, open_engine

    engine = open_engine(dataset, EngineSettings(threads=settings.threads, memory_limit=settings.memory_limit))
    try:
        tree = check_query(sql, engine.tables(), settings)
        engine.lock_down()
        wrapped = f"SELECT * FROM (\n{tree.sql('duckdb')}\n) AS console_query LIMIT {int(settings.row_cap) + 1}"
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            engine.interrupt()

        timer = threading.Timer(settings.time_limit_seconds, stop)
        started = time.monotonic()
        timer.start()
        try:
            table = engine.query(wrapped)
        except Exception as exc:  # noqa: BLE001 - any engine failure is the user's query failing
            if fired.is_set():
                raise ConsoleError(
                    "timeout",
                    Text(
                        f"查询超过时限 {settings.time_limit_seconds:g} 秒，已中止",
                        f"the query ran past the time limit of {settings.time_limit_seconds:g} s and was stopped",
                    ),
                ) from None
            reason = _engine_message(exc, dataset)
            raise ConsoleError("error", Text(f"查询失败：{reason}", f"the query failed: {reason}")) from None
        finally:
            timer.cancel()
        elapsed_ms = int((time.monotonic() - started) * 1000)
    finally:
        engine.close()
    truncated = table.num_rows > settings.row_cap
    if truncated:
        table = table.slice(0, settings.row_cap)
    return ConsoleResult(table=table, truncated=truncated, elapsed_ms=elapsed_ms, row_cap=settings.row_cap)


def run_query(
    store: Any, user_id: str | None, dataset: Dataset, sql: str, settings: ConsoleSettings = DEFAULT_CONSOLE
) -> ConsoleResult:
    """Check the user (:func:`check_console_user`), run ``sql`` (:func:`execute`) and record the query in the
    audit trail (``sql_query``: the SQL, status, rows, time) whatever its outcome; re-raises a ``ConsoleError``
    after recording it. ``store``: an open case store (``gridaudit.audit.store.open_store``)."""
    from gridaudit.audit import trail

    units = dataset_units(dataset)
    with store.transaction() as s:
        user = check_console_user(s, user_id, units)
        actor = user.user_id
    result: ConsoleResult | None = None
    error: ConsoleError | None = None
    try:
        result = execute(dataset, sql, settings)
    except ConsoleError as exc:
        error = exc
    payload: dict[str, Any] = {
        "sql": sql[: settings.max_sql_chars],
        "dataset": str(dataset.root),
        "status": "ok" if error is None else error.status,
    }
    if result is not None:
        payload |= {"rows": result.table.num_rows, "truncated": result.truncated, "ms": result.elapsed_ms}
    if error is not None:
        payload["error"] = error.en
    with store.transaction() as s:
        trail.append(s, actor, ACTION, "dataset", dataset.version, payload)
    if error is not None:
        raise error
    assert result is not None
    return result
