"""Rule fixtures: tiny input rows → the finding keys a rule must return (golden-file style).

A fixture is ``<catalog>/<family>/<rule_id>/fixture*.yaml`` beside the rule file (built-in fixtures ship
with the package), or ``<root>/<rule_id>/fixture*.yaml`` under an extra fixtures root, with ``tables``
(rows), optional ``params`` and ``period``, and ``expect`` (keys).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset, commit_version, stage_version
from gridaudit.i18n import both
from gridaudit.rules.golden import (
    EXPECT_FIELDS,
    FixtureChange,
    compare,
    diff_expect,
    golden_row,
    render_expect,
    replace_expect,
    row_key,
)
from gridaudit.rules.loader import Rule, RuleError
from gridaudit.rules.runner import run_rules

Key = tuple[str, str | None]


@dataclass
class FixtureResult:
    """The outcome of one fixture on one engine."""

    rule_id: str
    fixture: Path
    engine: str
    ok: bool
    expected: set[Key] = field(default_factory=set)
    got: set[Key] = field(default_factory=set)
    message: str = ""
    mismatches: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """A one-line account of a failure (missing and unexpected keys, values that differ, the runner's message)."""
        if self.ok:
            return f"{self.rule_id} {self.fixture.name} [{self.engine}] ok"
        missing = sorted(self.expected - self.got, key=str)
        extra = sorted(self.got - self.expected, key=str)
        text = f"{self.rule_id} {self.fixture.name} [{self.engine}]: missing {missing}, unexpected {extra}"
        if self.mismatches:
            text += "; values differ: " + "; ".join(self.mismatches)
        return text + (f" — {self.message}" if self.message else "")


def fixture_dir(rule: Rule) -> Path:
    """The folder of a rule's own fixtures: ``<family>/<rule_id>/`` beside the rule (or template) file.

    Built-in rules ship their fixtures there as package data, so ``gridaudit rules test`` finds them after a
    normal install; an extra catalog keeps the same layout.
    """
    return rule.path.parent / rule.id


def fixture_files(rule: Rule, roots: list[Path] | None = None) -> list[Path]:
    """Fixture files of ``rule``: beside the rule file (``fixture_dir``) and in ``<root>/<rule_id>/`` per extra root."""
    folders = [fixture_dir(rule)] + [Path(r) / rule.id for r in roots or []]
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found.extend(sorted(folder.glob("fixture*.yaml")))
    return sorted(set(found))


def load_fixture(path: Path) -> dict[str, Any]:
    """Read and check a fixture file; errors name the file."""
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        raise RuleError(both(f"{path}: YAML 无效：{exc}", f"{path}: invalid YAML: {exc}")) from None
    unknown = set(raw) - {"params", "period", "tables", "expect", "note"}
    if unknown:
        raise RuleError(both(f"{path}: 未知字段 {sorted(unknown)}", f"{path}: unknown keys {sorted(unknown)}"))
    if not isinstance(raw.get("tables"), dict) or "expect" not in raw:
        raise RuleError(both(f"{path}: 需要 tables 与 expect", f"{path}: needs tables and expect"))
    for i, entry in enumerate(raw["expect"] or [], 1):
        bad = sorted(set(entry) - set(EXPECT_FIELDS)) if isinstance(entry, dict) else None
        if bad is None or bad or "entity_id" not in entry:
            raise RuleError(
                both(
                    f"{path}: expect 第 {i} 项应为含 entity_id 的映射，可用字段 {', '.join(EXPECT_FIELDS)}",
                    f"{path}: expect item {i} must be a mapping with entity_id; fields: {', '.join(EXPECT_FIELDS)}",
                )
            )
        if entry.get("evidence") is not None and not isinstance(entry["evidence"], dict):
            raise RuleError(
                both(
                    f"{path}: expect 第 {i} 项 evidence 应为映射",
                    f"{path}: expect item {i}: evidence must be a mapping",
                )
            )
    return raw


def arrow_rows(table: str, rows: list[dict[str, Any]], where: str = "") -> pa.Table:
    """Rows from a fixture as an Arrow table with the contract types (missing columns null)."""
    spec = load_contract().table(table)
    schema = pa.schema([pa.field(f.name, f.type) for f in spec.arrow_schema()])
    out = []
    for i, row in enumerate(rows or []):
        unknown = set(row) - set(schema.names)
        if unknown:
            raise RuleError(
                both(
                    f"{where}{table} 第 {i + 1} 行：未知列 {sorted(unknown)}",
                    f"{where}{table} row {i + 1}: unknown columns {sorted(unknown)}",
                )
            )
        conv = {}
        for col, value in row.items():
            try:
                conv[col] = _convert(spec.columns[col].type, value)
            except (TypeError, ValueError) as exc:
                raise RuleError(
                    both(
                        f"{where}{table} 第 {i + 1} 行 列 {col}：{exc}",
                        f"{where}{table} row {i + 1} column {col}: {exc}",
                    )
                ) from None
        out.append(conv)
    return pa.Table.from_pylist(out, schema=schema)


def _convert(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if kind == "timestamp":
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        return datetime.fromisoformat(str(value))
    if kind in ("string", "period"):
        return str(value)
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return value


def build_fixture_dataset(rule: Rule, fixture: dict[str, Any], root: Path, where: str = "") -> Dataset:
    """Write the fixture's rows (plus empty tables the rule or its derived tables declare) as a dataset at ``root``."""
    staged = stage_version(root)
    tables = dict(fixture["tables"])
    for t in rule.all_tables:  # the rule's tables and those its derived tables read
        tables.setdefault(t, [])
    for name, rows in sorted(tables.items()):
        staged.write_table(name, arrow_rows(name, rows, where))
    return commit_version(staged, {"sources": [f"fixture {where}"]})


def expected_keys(fixture: dict[str, Any]) -> set[Key]:
    """The finding keys a fixture expects."""
    return {row_key(e) for e in fixture["expect"] or []}


EngineFactory = Callable[[Dataset], Any]


def run_fixture(
    rule: Rule, path: Path, make_engine: EngineFactory | None = None, workdir: Path | None = None
) -> FixtureResult:
    """Run one fixture file of ``rule`` on an engine made by ``make_engine`` (DuckDB by default)."""
    from gridaudit.engines import open_engine

    make_engine = make_engine or open_engine
    fixture = load_fixture(path)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        dataset = build_fixture_dataset(rule, fixture, Path(tmp) / "ds", where=f"{path}: ")
        engine = make_engine(dataset)
        try:
            findings, reports = run_rules(
                engine, [rule], period=fixture.get("period"), overrides={rule.id: fixture.get("params") or {}}
            )
        finally:
            engine.close()
    rows = findings.to_pylist()
    got = {row_key(r) for r in rows}
    expected = expected_keys(fixture)
    report = reports[0]
    mismatches = compare(fixture["expect"] or [], rows)
    ok = report.status == "ok" and got == expected and not mismatches
    name = getattr(engine, "name", "?")
    return FixtureResult(rule.id, path, name, ok, expected, got, report.message, mismatches, rows)


def update_fixture(rule: Rule, path: Path, make_engine: EngineFactory | None = None) -> FixtureChange:
    """Rewrite the ``expect`` of one fixture file with the golden rows the rule returns now.

    Only the ``expect:`` block changes (notes, tables and params are kept as written). For use after a
    reviewed change: the returned FixtureChange lists keys added and removed and values changed.
    A rule that errors on the fixture is not written over (RuleError with the runner's message).
    """
    result = run_fixture(rule, path, make_engine)
    if result.message:  # the runner only explains a rule that was skipped or failed
        raise RuleError(
            both(f"{path}: 规则未正常运行，未改写：", f"{path}: the rule did not run, not rewritten: ") + result.message
        )
    new = [golden_row(r) for r in result.rows]
    change = diff_expect(path, load_fixture(path)["expect"] or [], new)
    if change.changed:
        text = path.read_text("utf-8")
        path.write_text(replace_expect(text, render_expect(new)), "utf-8")
    return change


def run_all_fixtures(
    rules: list[Rule], roots: list[Path] | None = None, make_engine: EngineFactory | None = None
) -> list[FixtureResult]:
    """Run every fixture of every rule; a rule without fixtures gives a failed result saying so."""
    results = []
    for rule in rules:
        files = fixture_files(rule, roots)
        if not files:
            results.append(FixtureResult(rule.id, rule.path, "-", False, message=both("没有测试样例", "no fixtures")))
        for f in files:
            results.append(run_fixture(rule, f, make_engine))
    return results


def update_all_fixtures(rules: list[Rule], roots: list[Path] | None = None) -> list[FixtureChange]:
    """``update_fixture`` on every fixture file of every rule (DuckDB); one FixtureChange per file."""
    return [update_fixture(rule, f) for rule in rules for f in fixture_files(rule, roots)]
