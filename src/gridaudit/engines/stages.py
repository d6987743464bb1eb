"""Staged queries as a tree: split multi-stage SQL into materialised stages with sqlglot, refuse what does not port.

A query's top-level ``WITH`` clauses are its stages. :func:`split_stages` parses the DuckDB-dialect text once
and cuts the tree: each CTE that later parts read more than once (or every CTE, with ``every=True``) becomes
a :class:`Stage` that an engine materialises (``Engine.materialise``); the rest stay inline in the final
query. :func:`assemble` puts a split query back together as one statement. Nothing is cut or glued with
regular expressions.

:func:`check_portable` refuses, at load time, SQL an engine would reject or compute differently: sqlglot's
own unsupported-construct errors for the target dialect (``unsupported_level=ErrorLevel.RAISE``) plus the
constructs DESIGN §4 lists, which sqlglot transpiles without complaint and PostgreSQL rejects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from gridaudit.engines.base import Engine
from gridaudit.i18n import both

DIALECTS = {"postgres": "postgres", "spark": "spark"}  # engine name → sqlglot dialect (duckdb is the source)
# DESIGN §4: transpiled "fine" by sqlglot, rejected by PostgreSQL (or not the same on every engine)
NOT_PORTABLE_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Hour: "hour(ts) (write extract(hour from ts))",
    exp.ArgMax: "arg_max",
    exp.ArgMin: "arg_min",
    exp.ApproxDistinct: "approx_count_distinct",
    exp.DayOfWeek: "dayofweek() (engines number the days differently: count days from a known Monday)",
    exp.DayOfWeekIso: "isodow() (count days from a known Monday)",
}
# EXTRACT / date_part fields whose numbering differs between DuckDB, PostgreSQL and Spark (Sunday 0 or 1)
DAY_OF_WEEK_FIELDS = frozenset({"dow", "dayofweek", "isodow", "weekday", "dayofweekiso"})
WINDOW_ORDER_STATS = (exp.Median, exp.PercentileCont, exp.PercentileDisc, exp.Quantile)
STAGING_ENGINES = frozenset({"spark"})  # engines that recompute a CTE at every read
WITH = "with_"  # sqlglot 30 spells the WITH argument of a query with a trailing underscore


class UnportableSQL(ValueError):
    """SQL refused before it reaches an engine; the message names the construct and the engine."""


@dataclass(frozen=True)
class Stage:
    """One materialised stage: a name later parts read, its SELECT (DuckDB dialect) and the ``$parameters`` it
    reads (none, unless split with ``params=True``)."""

    name: str
    sql: str
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class StagedQuery:
    """A query cut into stages (built in order) and a final SELECT reading them (DuckDB dialect)."""

    stages: tuple[Stage, ...]
    final: str

    @property
    def names(self) -> list[str]:
        """The stage names, in build order."""
        return [s.name for s in self.stages]


def parse_query(sql: str, where: str = "") -> exp.Expr:
    """``sql`` (DuckDB dialect) as one query tree; anything else raises :class:`UnportableSQL` naming ``where``."""
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except SqlglotError as exc:
        raise UnportableSQL(both(f"{where}SQL 无法解析：", f"{where}SQL does not parse: ") + _first(exc)) from exc
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise UnportableSQL(both(f"{where}应为一条 SELECT 查询", f"{where}expected one SELECT query"))
    query: exp.Expr = trees[0]
    return query


def check_portable(sql: str | exp.Expr, engine: str, where: str = "") -> None:
    """Raise :class:`UnportableSQL` if ``sql`` (DuckDB dialect) would not run the same on ``engine``.

    ``engine`` is an engine name (``duckdb`` is the source dialect: nothing to check). ``where`` prefixes
    the message (a file or rule id).
    """
    if engine not in DIALECTS:
        return
    tree = parse_query(sql, where) if isinstance(sql, str) else sql
    problems = sorted(set(not_portable(tree)))
    if problems:
        raise UnportableSQL(
            both(
                f"{where}不可移植到 {engine} 的写法：{'；'.join(problems)}",
                f"{where}not portable to {engine}: {'; '.join(problems)}",
            )
        )
    try:
        tree.sql(dialect=DIALECTS[engine], unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnportableSQL(
            both(f"{where}{engine} 不支持：", f"{where}unsupported on {engine}: ") + _first(exc)
        ) from exc


def not_portable(tree: exp.Expr) -> Iterable[str]:
    """The DESIGN §4 constructs in ``tree``, by name."""
    for group in tree.find_all(exp.Group):
        if group.args.get("all"):
            yield "GROUP BY ALL"
    for star in tree.find_all(exp.Star):
        if star.args.get("except_"):
            yield "SELECT * EXCLUDE"
        if star.args.get("replace"):
            yield "SELECT * REPLACE"
    for kind, name in NOT_PORTABLE_FUNCTIONS.items():
        if tree.find(kind) is not None:
            yield name
    for extract in tree.find_all(exp.Extract):
        if extract.this.name.lower() in DAY_OF_WEEK_FIELDS:
            yield "extract(dow …) (engines number the days differently: count days from a known Monday)"
    for call in tree.find_all(exp.Anonymous):
        first = call.expressions[0] if call.expressions else None
        if call.name.lower() in ("date_part", "datepart") and isinstance(first, exp.Literal):
            if first.name.lower() in DAY_OF_WEEK_FIELDS:
                yield "date_part('dow', …) (count days from a known Monday)"
    for window in tree.find_all(exp.Window):
        inner = window.this
        if isinstance(inner, exp.WithinGroup):
            inner = inner.this
        if isinstance(inner, WINDOW_ORDER_STATS):
            yield "median/percentile as a window function (group, then join back)"


def split_stages(sql: str, every: bool = False, prefix: str = "", where: str = "", params: bool = False) -> StagedQuery:
    """Cut ``sql``'s top-level CTEs into stages: those read twice or more (all with ``every``), in order.

    A stage is named ``prefix + cte name`` and the later parts are rewritten to read it by that name (a
    prefix keeps two staged queries on one engine apart). A recursive ``WITH`` is refused, and so is a stage
    that reads ``$parameters`` unless ``params`` (then each stage lists the ones it reads, and
    :func:`run_staged` binds them).
    """
    tree = parse_query(sql, where)
    with_ = tree.args.get(WITH)
    if with_ is None:
        return StagedQuery((), sql)
    if with_.args.get("recursive"):
        raise UnportableSQL(both(f"{where}不能分段递归 WITH", f"{where}a recursive WITH cannot be staged"))
    ctes = list(with_.expressions)
    reads = {c.alias_or_name: 0 for c in ctes}
    body = tree.copy()
    body.set(WITH, None)
    for part in [*(c.this for c in ctes), body]:
        for table in part.find_all(exp.Table):
            if not table.db and table.name in reads:
                reads[table.name] += 1
    cut = [c for c in ctes if every or reads[c.alias_or_name] >= 2]
    if not cut:  # nothing to stage: the text goes to the engine as written
        return StagedQuery((), sql)
    names = {c.alias_or_name: prefix + c.alias_or_name for c in cut}
    stages = []
    for cte in ctes:
        if cte not in cut:
            continue
        part = _renamed(cte.this, names)
        kept = [c for c in ctes if c not in cut and ctes.index(c) < ctes.index(cte)]
        stage = _with(part, kept, names)
        used = tuple(sorted(_param_names(stage)))
        if used and not params:
            raise UnportableSQL(
                both(
                    f"{where}分段 {cte.alias_or_name} 不能使用参数",
                    f"{where}stage {cte.alias_or_name} uses $parameters (stages are built without them)",
                )
            )
        stages.append(Stage(names[cte.alias_or_name], stage.sql("duckdb"), used))
    rest = [c for c in ctes if c not in cut]
    return StagedQuery(tuple(stages), _with(_renamed(body, names), rest, names).sql("duckdb"))


def plan_stages(sql: str, engine: str, prefix: str = "", where: str = "", params: bool = False) -> StagedQuery:
    """The stages ``engine`` should build for ``sql``: a CTE read twice becomes a stage on engines that would
    otherwise compute it twice (Spark inlines CTEs: a rule whose CTEs read one another several times grew
    into a plan of 800 shuffles); DuckDB and PostgreSQL materialise such a CTE themselves, so there the text
    runs as written. ``params``: stages may read ``$parameters`` (bound by :func:`run_staged`)."""
    if engine not in STAGING_ENGINES:
        parse_query(sql, where)  # still one query, or refused here
        return StagedQuery((), sql)
    return split_stages(sql, prefix=prefix, where=where, params=params)


def assemble(staged: StagedQuery) -> str:
    """One statement again: the stages as ``WITH`` clauses in front of the final query (DuckDB dialect)."""
    final = parse_query(staged.final)
    if not staged.stages:
        return final.sql("duckdb")
    inner = final.args.get(WITH)
    ctes = [
        exp.CTE(this=parse_query(s.sql), alias=exp.TableAlias(this=exp.to_identifier(s.name))) for s in staged.stages
    ]
    ctes += list(inner.expressions) if inner is not None else []
    final.set(WITH, exp.With(expressions=ctes))
    return final.sql("duckdb")


def run_staged(engine: Engine, staged: StagedQuery, params: dict[str, Any] | None = None) -> pa.Table:
    """Materialise each stage on ``engine`` (bound with the ``params`` it reads), run the final query with
    ``params``, drop the stages (always)."""
    made: list[str] = []
    params = params or {}
    try:
        for stage in staged.stages:
            engine.materialise(stage.name, stage.sql, {k: params[k] for k in stage.params if k in params} or None)
            made.append(stage.name)
        if staged.stages:  # the final query gets only what it reads (engines refuse unused parameters)
            used = _param_names(parse_query(staged.final))
            return engine.query(staged.final, {k: v for k, v in params.items() if k in used} or None)
        return engine.query(staged.final, params or None)
    finally:
        for name in reversed(made):
            engine.drop_materialised(name)


def materialise_staged(
    engine: Engine, name: str, staged: StagedQuery, params: dict[str, Any] | None = None
) -> list[str]:
    """Materialise ``staged`` as table ``name``: its stages first, then the final query; return the stages made.

    Each stage and the final query get the ``params`` they read (split with ``params=True`` to let stages read
    any). The caller drops the stages (``Engine.drop_materialised``) with ``name`` when done; on failure the
    stages made so far are dropped here and the error is raised.
    """
    made: list[str] = []
    params = params or {}
    try:
        for stage in staged.stages:
            engine.materialise(stage.name, stage.sql, {k: params[k] for k in stage.params if k in params} or None)
            made.append(stage.name)
        used = _param_names(parse_query(staged.final)) if params else set()
        engine.materialise(name, staged.final, {k: v for k, v in params.items() if k in used} or None)
    except Exception:
        for stage_name in reversed(made):
            engine.drop_materialised(stage_name)
        raise
    return made


def _renamed(node: exp.Expr, names: dict[str, str]) -> exp.Expr:
    """A copy of ``node`` reading stage names instead of the CTE names they replace."""

    def swap(n: exp.Expr) -> exp.Expr:
        if isinstance(n, exp.Table) and not n.db and n.name in names and n.name != names[n.name]:
            renamed = n.copy()
            renamed.set("this", exp.to_identifier(names[n.name]))
            if not renamed.alias:  # columns qualified with the old name keep resolving
                renamed.set("alias", exp.TableAlias(this=exp.to_identifier(n.name)))
            return renamed
        return n

    return node.copy().transform(swap)


def _with(body: exp.Expr, ctes: list[exp.CTE], names: dict[str, str]) -> exp.Expr:
    """``body`` with the inline ``ctes`` it may read put back in front of it."""
    if not ctes:
        return body
    out = body.copy()
    kept = [exp.CTE(this=_renamed(c.this, names), alias=c.args["alias"].copy()) for c in ctes]
    out.set(WITH, exp.With(expressions=kept))
    return out


def _param_names(tree: exp.Expr) -> set[str]:
    """The ``$name`` parameters ``tree`` reads."""
    return {p.name for p in tree.find_all(exp.Placeholder) if p.name} | {
        p.name for p in tree.find_all(exp.Parameter) if p.name
    }


def _first(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
