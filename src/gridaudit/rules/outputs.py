"""The output contract of a rule: its final SELECT's columns must fit the findings shape (DESIGN §5).

The runner maps ``entity_id``, ``period``, ``score``, ``kwh_at_stake``, ``yuan_at_stake`` and
``responsible_staff_id`` onto a finding and every ``ev_<key>`` column into its evidence; it fills the
other findings columns itself. Any other output column would be dropped silently, so it is an error when
the catalog loads.
"""

from __future__ import annotations

import difflib

from sqlglot import exp

from gridaudit.findings import FINDINGS_SCHEMA
from gridaudit.i18n import both
from gridaudit.rules.safety import parse_rule_sql

# the findings columns a rule's SELECT may set (the runner fills the others) and must set;
# every other output column is evidence and is named ev_<key>.
RUNNER_FILLED = ("finding_id", "rule_id", "family", "severity", "entity_type", "evidence", "run_id")
RULE_OUTPUTS = tuple(n for n in FINDINGS_SCHEMA.names if n not in RUNNER_FILLED)
REQUIRED_OUTPUTS = ("entity_id", "period")
EVIDENCE_PREFIX = "ev_"


class OutputError(Exception):
    """A rule query whose output columns do not fit the findings shape."""


def output_columns(sql: str | exp.Expr) -> list[str]:
    """The output column names (lower case) of a rule's final SELECT (the first branch of a UNION).

    Raises ``UnsafeSQL`` for SQL that does not parse or is not one query, and ``OutputError`` for an output
    list that cannot be named (``SELECT *``, an expression without an alias).
    """
    tree = parse_rule_sql(sql) if isinstance(sql, str) else sql
    final = tree
    while isinstance(final, exp.SetOperation):
        final = final.left
    while isinstance(final, exp.Subquery):
        final = final.this
    if not isinstance(final, exp.Select):
        raise OutputError(both("无法确定输出列", "cannot tell the output columns of this query"))
    names = []
    for i, col in enumerate(final.selects, 1):
        if isinstance(col, exp.Star) or (isinstance(col, exp.Column) and isinstance(col.this, exp.Star)):
            raise OutputError(
                both(
                    "最外层 SELECT 不能用 SELECT *：请逐列写出 entity_id、period 等输出列",
                    "the final SELECT may not use SELECT *: list the output columns (entity_id, period, ...)",
                )
            )
        name = col.alias_or_name
        if not name:
            raise OutputError(
                both(
                    f"第 {i} 个输出列没有列名（{col.sql('duckdb')}）：请用 AS 命名",
                    f"output column {i} has no name ({col.sql('duckdb')}): give it one with AS",
                )
            )
        names.append(name.lower())
    return names


def check_outputs(tree: str | exp.Expr) -> list[str]:
    """Check a rule query's output columns against the findings shape; return their names.

    Allowed: RULE_OUTPUTS (entity_id and period required) and ``ev_*`` evidence columns; an unknown name
    gets a "did you mean" suggestion. Raises OutputError naming the column.
    """
    names = output_columns(tree)
    problems_zh: list[str] = []
    problems_en: list[str] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems_zh.append(f"输出列 {name} 出现两次")
            problems_en.append(f"output column {name} appears twice")
        seen.add(name)
        if name in RULE_OUTPUTS or (name.startswith(EVIDENCE_PREFIX) and len(name) > len(EVIDENCE_PREFIX)):
            continue
        close = difflib.get_close_matches(name, RULE_OUTPUTS, n=1, cutoff=0.6)
        hint_zh = f"，是否应为 {close[0]}？" if close else f"；证据列请以 {EVIDENCE_PREFIX} 开头"
        hint_en = f"; did you mean {close[0]}?" if close else f"; evidence columns are named {EVIDENCE_PREFIX}<key>"
        problems_zh.append(f"未知输出列 {name}{hint_zh}")
        problems_en.append(f"unknown output column {name}{hint_en}")
    for req in REQUIRED_OUTPUTS:
        if req not in seen:
            problems_zh.append(f"缺少必需输出列 {req}")
            problems_en.append(f"required output column {req} is missing")
    if problems_en:
        allowed = ", ".join(RULE_OUTPUTS) + f", {EVIDENCE_PREFIX}*"
        raise OutputError(
            both(
                f"输出列不符合问题清单格式：{'；'.join(problems_zh)}（可用：{allowed}）",
                f"output columns do not fit the findings shape: {'; '.join(problems_en)} (allowed: {allowed})",
            )
        )
    return names
