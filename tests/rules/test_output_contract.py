"""The output contract: a rule's final SELECT list is checked when the catalog loads (no silent typos)."""

from __future__ import annotations

import pytest

from gridaudit.findings import FINDINGS_SCHEMA
from gridaudit.rules.loader import (
    REQUIRED_OUTPUTS,
    RULE_OUTPUTS,
    RuleError,
    load_catalog,
    load_rule,
    output_columns,
)

from .rules_runner_helpers import write_rule

OK = "SELECT meter_id AS entity_id, period, reading AS score, reading AS kwh_at_stake, 1 AS ev_x FROM readings"


def test_rule_outputs_are_the_findings_columns_a_rule_sets():
    assert set(RULE_OUTPUTS) <= set(FINDINGS_SCHEMA.names)
    assert RULE_OUTPUTS == ("entity_id", "period", "score", "kwh_at_stake", "yuan_at_stake", "responsible_staff_id")
    assert REQUIRED_OUTPUTS == ("entity_id", "period")


def test_output_columns_of_the_final_select():
    assert output_columns(OK) == ["entity_id", "period", "score", "kwh_at_stake", "ev_x"]
    union = "SELECT meter_id AS entity_id, period FROM readings UNION ALL SELECT meter_id, period FROM readings"
    assert output_columns(union) == ["entity_id", "period"]
    cte = "WITH t AS (SELECT *, 1 AS k FROM readings) SELECT meter_id AS Entity_ID, period FROM t"
    assert output_columns(cte) == ["entity_id", "period"]


def test_a_typo_is_a_load_error_naming_file_column_and_suggestion(tmp_path):
    path = write_rule(tmp_path / "cat", "reading_typo", OK.replace("AS kwh_at_stake", "AS kwh_at_stak"))
    with pytest.raises(RuleError) as err:
        load_rule(path)
    text = str(err.value)
    assert "reading_typo.sql" in text and "kwh_at_stak" in text and "did you mean kwh_at_stake" in text


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT meter_id AS entity_id, reading AS score FROM readings", "period"),
        ("SELECT meter_id AS entity, period FROM readings", "did you mean entity_id"),
        ("SELECT meter_id AS entity_id, period, reading AS yuan FROM readings", "yuan"),
        ("SELECT meter_id AS entity_id, period, reading AS scor FROM readings", "did you mean score"),
        ("SELECT meter_id AS entity_id, period, reading AS evidence FROM readings", "ev_"),
        ("SELECT meter_id AS entity_id, period, reading AS score, 1 AS score FROM readings", "twice"),
        ("SELECT meter_id AS entity_id, period, reading + 1 FROM readings", "no name"),
        ("SELECT * FROM readings", "SELECT *"),
        ("SELECT meter_id AS entity_id, period FROM readings WHERE", "does not parse"),
        ("DELETE FROM readings", "SELECT"),
    ],
)
def test_bad_output_lists_are_refused_at_load(tmp_path, sql, problem):
    path = write_rule(tmp_path / "cat", "reading_bad", sql)
    with pytest.raises(RuleError, match="reading_bad.sql") as err:
        load_rule(path)
    assert problem in str(err.value)


def test_template_outputs_are_checked_too(tmp_path):
    from .test_derived_and_templates import TEMPLATE

    path = tmp_path / "cat" / "reading" / "reading_over.template.sql"
    path.parent.mkdir(parents=True)
    path.write_text(TEMPLATE.replace("reading AS score", "reading AS yuan_at_stak"), "utf-8")
    with pytest.raises(RuleError, match="did you mean yuan_at_stake"):
        load_catalog([tmp_path / "cat"], builtin=False)


def test_every_builtin_rule_meets_the_contract():
    for rule in load_catalog():
        cols = output_columns(rule.sql)
        assert {"entity_id", "period"} <= set(cols), rule.id
        assert all(c in RULE_OUTPUTS or c.startswith("ev_") for c in cols), rule.id
