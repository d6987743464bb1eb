"""Every rule's fixtures on DuckDB, and the catalog's documentation completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.findings import FAMILIES
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import expected_keys, fixture_dir, fixture_files, load_fixture, run_fixture
from gridaudit.rules.loader import builtin_catalog

ROOT = Path(__file__).resolve().parents[2]
RULES = load_catalog()
CASES = [(r, f) for r in RULES for f in fixture_files(r)]


@pytest.mark.parametrize(("rule", "path"), CASES, ids=[f"{r.id}/{p.name}" for r, p in CASES])
def test_fixture_on_duckdb(rule, path):
    result = run_fixture(rule, path)
    assert result.ok, result.describe()
    for row in result.rows:  # money at stake is a size: a refund or a drop is not a negative amount
        assert all(row[k] is None or row[k] >= 0 for k in ("kwh_at_stake", "yuan_at_stake")), row


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_is_documented_and_has_fixtures(rule):
    h = rule.header
    assert h.description.zh.strip() and h.description.en.strip(), f"{rule.id}: description zh/en"
    assert h.title.zh.strip() and h.title.en.strip(), f"{rule.id}: title zh/en"
    for name, p in h.params.items():
        assert p.doc.zh.strip() and p.doc.en.strip(), f"{rule.id}: param {name} lacks docs"
        assert f"${name}" in rule.sql, f"{rule.id}: param {name} declared but not used in the SQL"
    files = fixture_files(rule)
    assert files, f"{rule.id}: no fixtures in {fixture_dir(rule)}"
    fires = [f for f in files if expected_keys(load_fixture(f))]
    assert fires, f"{rule.id}: no fixture where the rule fires"
    for f in files:
        fx = load_fixture(f)
        rows = sum(len(v or []) for v in fx["tables"].values())
        assert rows > len(expected_keys(fx)), f"{f}: needs a near-miss row besides the firing ones"


def test_every_fixture_folder_belongs_to_a_rule():
    ids = {(r.family, r.id) for r in RULES}
    folders = [p for p in builtin_catalog().glob("*/*") if p.is_dir() and not p.parent.name.startswith("_")]
    orphans = [str(p) for p in folders if (p.parent.name, p.name) not in ids]
    assert folders and not orphans, f"fixture folders without a rule: {orphans}"
    assert not [p for p in (ROOT / "tests" / "rules").iterdir() if p.is_dir() and (p / "fixture.yaml").exists()]


def test_fixtures_are_package_data():
    """pyproject's package-data globs match every fixture, so a normal (non-editable) install ships them."""
    import fnmatch
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    patterns = data.get("gridaudit.rules", []) + data.get("*", [])
    pkg = builtin_catalog().parent
    files = [p.relative_to(pkg).as_posix() for p in builtin_catalog().rglob("*") if p.is_file()]
    fixtures = [f for f in files if f.endswith(".yaml")]
    assert len(fixtures) >= len(RULES)
    missing = [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in data.get("gridaudit.rules", []))]
    assert not missing, f"not package data: {missing[:5]}"
    assert patterns


def test_catalog_ids_unique_and_families_known():
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert {r.family for r in RULES} <= set(FAMILIES)
    for r in RULES:
        assert r.id.startswith(r.family + "_"), f"{r.id} must be prefixed by its family"
