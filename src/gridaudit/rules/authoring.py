"""Rule authoring: write a rule skeleton with its fixture (``rules new``), check a catalog without running it.

``check_catalog`` looks at everything the loader checks (metadata, SQL parse, sandbox safety, output
columns) file by file, so one broken rule does not hide the others, and adds what only running would
show otherwise: parameters used but not declared (or declared but unused), and fixtures that are missing,
do not fire, or do not fit the contract (unknown tables or columns, bad values, unknown parameters).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gridaudit.findings import ENTITY_TYPES, FAMILIES
from gridaudit.i18n import both
from gridaudit.rules.harness import arrow_rows, expected_keys, fixture_files, load_fixture, update_fixture
from gridaudit.rules.loader import (
    TEMPLATE_SUFFIX,
    Rule,
    RuleError,
    builtin_catalog,
    derived_tables,
    load_rule,
    load_template,
    rule_files,
    template_files,
)
from gridaudit.rules.safety import UnsafeSQL, check_rule_sql, param_names


@dataclass(frozen=True)
class Skeleton:
    """What a new rule of one entity type starts from: a table, its id, period and number columns."""

    table: str
    entity: str
    period: str | None  # column holding the period, None: the rule gives no period
    number: str
    staff: str | None
    base: dict  # the columns every fixture row needs besides the number


SKELETONS = {
    "customer": Skeleton("bills", "customer_id", "period", "kwh", "clerk_id", {"tariff_code": "R1", "amount_yuan": 1}),
    "bill": Skeleton("bills", "bill_id", "period", "kwh", "clerk_id", {"tariff_code": "R1", "amount_yuan": 1}),
    "staff": Skeleton("bills", "clerk_id", "period", "kwh", "clerk_id", {"tariff_code": "R1", "amount_yuan": 1}),
    "meter": Skeleton("readings", "meter_id", "period", "reading", "reader_id", {"read_type": "actual"}),
    "area": Skeleton("areas", "area_id", None, "transformer_kva", "manager_id", {"unit_id": "U1"}),
    "feeder": Skeleton("feeders", "feeder_id", None, "voltage_kv", None, {"unit_id": "U1"}),
    "work_order": Skeleton("work_orders", "order_id", None, "voltage_kv", None, {"order_type": "new_connection"}),
}
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def rule_skeleton(rule_id: str, family: str, entity_type: str) -> str:
    """The text of a new rule file: a valid header and a SELECT giving every output column."""
    sk = SKELETONS[entity_type]
    period = f"t.{sk.period}" if sk.period else "NULL"
    staff = f"t.{sk.staff}" if sk.staff else "NULL"
    where = f"t.{sk.number} > $threshold"
    if sk.period:
        where += f"\n  AND ($period IS NULL OR t.{sk.period} = $period)"
    return f"""/*---
id: {rule_id}
title: {{zh: "待填写：规则名称", en: "TODO: rule title"}}
family: {family}
severity: medium                 # low medium high critical
entity_type: {entity_type}
tables: [{sk.table}]
lookback: {{months: 0}}           # data before the run's period it reads: {{months: N}}, {{days: N}} or all
params:
  threshold: {{type: float, default: 100.0, doc: {{zh: "待填写：阈值", en: "TODO: threshold"}}}}
description:
  zh: "待填写：规则查什么、为什么、评分和金额怎么算。"
  en: "TODO: what the rule finds, why, and how score and money at stake are computed."
basis: ""
truth_kinds: []
---*/
SELECT
  t.{sk.entity}                  AS entity_id,             -- required
  {period}                       AS period,                -- required: YYYY-MM or NULL
  CAST(t.{sk.number} AS DOUBLE)  AS score,
  NULL                           AS kwh_at_stake,          -- a size (>= 0) or NULL
  NULL                           AS yuan_at_stake,
  {staff}                        AS responsible_staff_id,
  t.{sk.number}                  AS ev_{sk.number}         -- every ev_* column is a key of the evidence
FROM {sk.table} t
WHERE {where}
"""


def fixture_skeleton(rule_id: str, entity_type: str) -> str:
    """The text of a new rule's fixture: one row that fires, one near miss (``expect`` is filled by running it)."""
    sk = SKELETONS[entity_type]

    def row(i: int, number: float) -> str:
        cells = {sk.entity: f"X{i}", **sk.base, sk.number: number}
        if sk.entity != "bill_id" and sk.table == "bills":
            cells["bill_id"] = f"B{i}"
        if sk.period:
            cells[sk.period] = "2024-01"
        if sk.table == "readings":
            cells["read_on"] = "2024-01-15"
        text = ", ".join(f"{k}: {_yaml_scalar(v)}" for k, v in cells.items())
        return f"    - {{{text}}}"

    return f"""note: "TODO: X1 fires (above the threshold), X2 is a near miss (below it)."
tables:
  {sk.table}:
{row(1, 150.0)}
{row(2, 50.0)}
expect:
  - {{entity_id: X1, period: {'"2024-01"' if sk.period else "null"}}}
"""


def _yaml_scalar(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) and re.fullmatch(r"[\d-]+", value) else str(value)


def new_rule(catalog: Path, rule_id: str, family: str, entity_type: str = "customer") -> tuple[Path, Path]:
    """Write ``<catalog>/<family>/<rule_id>.sql`` and its fixture ``<family>/<rule_id>/fixture.yaml``.

    The fixture's ``expect`` is pinned as golden rows by running the new rule on it. Existing files are
    never overwritten (RuleError). Returns (rule file, fixture file).
    """
    if not ID_RE.fullmatch(rule_id):
        raise RuleError(both(f"规则 id 须为 snake_case：{rule_id}", f"rule id must be snake_case: {rule_id}"))
    if family not in FAMILIES:
        raise RuleError(both(f"未知规则族：{family}", f"unknown family {family} (known: {', '.join(FAMILIES)})"))
    if not rule_id.startswith(family + "_"):
        raise RuleError(both(f"规则 id 须以 {family}_ 开头", f"rule id must start with {family}_: {rule_id}"))
    if entity_type not in ENTITY_TYPES:
        raise RuleError(
            both(
                f"未知对象类型：{entity_type}",
                f"unknown entity type {entity_type} (known: {', '.join(ENTITY_TYPES)})",
            )
        )
    rule_path = Path(catalog) / family / f"{rule_id}.sql"
    fixture_path = Path(catalog) / family / rule_id / "fixture.yaml"
    for p in (rule_path, fixture_path, rule_path.with_name(rule_id + TEMPLATE_SUFFIX)):
        if p.exists():
            raise RuleError(both(f"文件已存在，未覆盖：{p}", f"file exists, not overwritten: {p}"))
    fixture_path.parent.mkdir(parents=True, exist_ok=True)
    rule_path.write_text(rule_skeleton(rule_id, family, entity_type), "utf-8")
    fixture_path.write_text(fixture_skeleton(rule_id, entity_type), "utf-8")
    update_fixture(load_rule(rule_path), fixture_path)
    return rule_path, fixture_path


def check_catalog(folder: Path | None = None) -> list[str]:
    """Problems in a catalog folder (default: the built-in one), each naming its file; [] when it is clean."""
    folders = [builtin_catalog()] + ([Path(folder)] if folder is not None else [])
    if folder is not None and not Path(folder).is_dir():
        return [both(f"规则目录不存在：{folder}", f"rule catalog folder not found: {folder}")]
    target = folders[-1]
    problems: list[str] = []
    try:
        derived = derived_tables(folders)
    except RuleError as exc:
        return [str(exc)]
    rules: list[Rule] = []
    for path in rule_files(target):
        rules += _load(lambda p=path: [load_rule(p, derived)], problems)
    for path in template_files(target):
        rules += _load(lambda p=path: load_template(p, derived), problems)
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(
                both(
                    f"规则 id {rule.id} 重复：{seen[rule.id]} 与 {rule.path}",
                    f"rule id {rule.id} is defined twice: {seen[rule.id]} and {rule.path}",
                )
            )
        seen[rule.id] = rule.path
        problems += check_params(rule) + check_fixtures(rule) + check_lookback(rule)
    return problems


def check_lookback(rule: Rule) -> list[str]:
    """A rule that does not declare its look-back (an incremental run then reads its whole history)."""
    if rule.header.lookback is not None:
        return []
    return [
        both(
            f"{rule.path} [{rule.id}]: 未声明 lookback（按月增量运行时读取的往期数据，如 {{months: 3}} 或 all）",
            f"{rule.path} [{rule.id}]: no lookback declared (the data before the period an incremental run reads, "
            "e.g. {months: 3} or all)",
        )
    ]


def _load(load: object, problems: list[str]) -> list[Rule]:
    try:
        return load()  # type: ignore[operator]
    except RuleError as exc:
        problems.append(str(exc))
        return []


def check_params(rule: Rule) -> list[str]:
    """Sandbox refusals of the SQL, params it uses but does not declare, and declared ones it never uses."""
    try:
        used = param_names(check_rule_sql(rule.sql, set(rule.header.tables) | set(rule.header.derived)))
    except UnsafeSQL as exc:  # the sandbox: tables it may read, functions it may call
        return [f"{rule.path} [{rule.id}]: {exc}"]
    declared = set(rule.header.params) | set(rule.header.fixed)
    out = []
    undeclared = sorted(used - declared - {"period"})
    if undeclared:
        out.append(
            both(
                f"{rule.path} [{rule.id}]: SQL 使用了未声明的参数 {', '.join(undeclared)}",
                f"{rule.path} [{rule.id}]: SQL uses undeclared params {', '.join(undeclared)}",
            )
        )
    unused = sorted(declared - used)
    if unused:
        out.append(
            both(
                f"{rule.path} [{rule.id}]: 声明了但 SQL 未使用的参数 {', '.join(unused)}",
                f"{rule.path} [{rule.id}]: params declared but not used in the SQL: {', '.join(unused)}",
            )
        )
    return out


def check_fixtures(rule: Rule) -> list[str]:
    """Fixture problems of one rule: none at all, none that fires, or a fixture that does not load."""
    files = fixture_files(rule)
    if not files:
        return [both(f"{rule.path} [{rule.id}]: 没有测试样例", f"{rule.path} [{rule.id}]: no fixtures")]
    out: list[str] = []
    fires = False
    for path in files:
        try:
            fx = load_fixture(path)
        except RuleError as exc:
            out.append(str(exc))
            continue
        for table, rows in fx["tables"].items():
            try:
                if table not in rule.all_tables:
                    raise RuleError(
                        both(
                            f"{path}: 表 {table} 不是规则读取的表（{', '.join(rule.all_tables)}）",
                            f"{path}: table {table} is not one the rule reads ({', '.join(rule.all_tables)})",
                        )
                    )
                arrow_rows(table, rows, f"{path}: ")
            except RuleError as exc:
                out.append(str(exc))
        try:
            rule.bind(fx.get("params") or {})
        except RuleError as exc:
            out.append(f"{path}: {exc}")
        fires = fires or bool(expected_keys(fx))
    if not fires and not out:
        out.append(
            both(
                f"{rule.path} [{rule.id}]: 没有规则会命中的样例",
                f"{rule.path} [{rule.id}]: no fixture where the rule fires",
            )
        )
    return out
