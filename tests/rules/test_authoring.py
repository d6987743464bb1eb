"""Rule authoring: ``rules new`` writes a skeleton, ``rules check`` validates a catalog without running it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import ENTITY_TYPES
from gridaudit.rules.authoring import check_catalog
from gridaudit.rules.loader import load_catalog

from .rules_runner_helpers import SQL_BIG, write_rule

runner = CliRunner()


def cli(*args):
    return runner.invoke(app, ["--lang", "en", "rules", *args])


@pytest.mark.parametrize("entity", ENTITY_TYPES)
def test_new_writes_a_rule_and_fixture_that_check_and_test_accept(tmp_path, entity):
    cat = tmp_path / "mine"
    res = cli("new", "theft_my_check", "--family", "theft", "--entity", entity, "--catalog", str(cat))
    assert res.exit_code == 0, res.output
    rule_file = cat / "theft" / "theft_my_check.sql"
    fixture = cat / "theft" / "theft_my_check" / "fixture.yaml"
    assert rule_file.is_file() and fixture.is_file()
    assert str(rule_file) in res.output and str(fixture) in res.output
    rule = {r.id: r for r in load_catalog([cat])}["theft_my_check"]
    assert rule.header.entity_type == entity and rule.path == rule_file
    res = cli("check", "--catalog", str(cat))
    assert res.exit_code == 0, res.output
    res = cli("test", "--catalog", str(cat), "--only", "theft_my_check")
    assert res.exit_code == 0 and "1/1 fixtures passed" in res.output, res.output


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["Theft-X", "--family", "theft"], "snake_case"),
        (["reading_x", "--family", "theft"], "theft_"),
        (["theft_x", "--family", "nosuch"], "nosuch"),
        (["theft_x", "--family", "theft", "--entity", "planet"], "planet"),
    ],
)
def test_new_refuses_bad_ids(tmp_path, args, problem):
    res = cli("new", *args, "--catalog", str(tmp_path / "mine"))
    assert res.exit_code == 2 and problem in res.output
    assert not (tmp_path / "mine").exists()


def test_new_does_not_overwrite(tmp_path):
    cat = tmp_path / "mine"
    assert cli("new", "theft_x", "--family", "theft", "--catalog", str(cat)).exit_code == 0
    path = cat / "theft" / "theft_x.sql"
    path.write_text(path.read_text("utf-8") + "\n-- edited", "utf-8")
    res = cli("new", "theft_x", "--family", "theft", "--catalog", str(cat))
    assert res.exit_code == 2 and "exists" in res.output
    assert path.read_text("utf-8").endswith("-- edited")
    res = cli("new", "reading_missed", "--family", "reading", "--catalog", str(cat))
    assert res.exit_code == 0 and "replaces" in res.output  # allowed, but said


def test_builtin_catalog_checks_clean():
    assert check_catalog(None) == []
    res = cli("check")
    assert res.exit_code == 0, res.output


def test_check_reports_every_problem_naming_the_file(tmp_path):
    cat = tmp_path / "cat"
    write_rule(cat, "reading_nofix", SQL_BIG)  # no fixtures
    write_rule(cat, "reading_typo", SQL_BIG.replace("AS score", "AS scor"))
    write_rule(cat, "reading_undeclared", SQL_BIG.replace("$limit", "$limit_x"))
    write_rule(cat, "reading_leak", SQL_BIG.replace("'z' AS ev_a", "current_setting('temp_directory') AS ev_a"))
    ok = write_rule(cat, "reading_badfix", SQL_BIG)
    (ok.parent / "reading_badfix").mkdir()
    (ok.parent / "reading_badfix" / "fixture.yaml").write_text(
        "tables:\n  readings:\n    - {meter_id: M1, colour: red}\nparams: {nope: 1}\nexpect: []\n", "utf-8"
    )
    problems = check_catalog(cat)
    text = "\n".join(problems)
    assert "reading_nofix" in text and "no fixtures" in text
    assert "reading_typo.sql" in text and "did you mean score" in text
    assert "reading_undeclared.sql" in text and "limit_x" in text
    assert "reading_leak.sql" in text and "current_setting" in text
    assert "fixture.yaml" in text and "colour" in text and "nope" in text
    assert "label" in text and "reading_nofix.sql" in text  # declared param $label unused
    res = cli("check", "--catalog", str(cat))
    assert res.exit_code == 1
    for name in ("reading_nofix", "reading_typo.sql", "reading_leak.sql", "colour"):
        assert name in res.output


def test_extra_catalog_replacing_a_builtin_rule_says_so_when_it_runs(tmp_path):
    from gridaudit.rules.harness import build_fixture_dataset

    cat = tmp_path / "cat"
    mine = write_rule(cat, "reading_missed", SQL_BIG)
    ds = build_fixture_dataset(load_catalog([cat], builtin=False)[0], {"tables": {}}, tmp_path / "ds")
    res = cli(
        "run",
        "--dataset",
        str(ds.root),
        "--out",
        str(tmp_path / "f.parquet"),
        "--catalog",
        str(cat),
        "--only",
        "reading_missed",
    )
    assert res.exit_code == 0, res.output
    builtin = {r.id: r for r in load_catalog()}["reading_missed"].path
    flat = res.output.replace("\n", "")
    assert "replaces" in flat and str(mine) in flat and str(builtin) in flat
