"""rules/packing.py (column by column) gives exactly what the per-row packing gave, on awkward values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from gridaudit.rules.loader import RuleError, load_catalog
from gridaudit.rules.packing import findings_rows

from .packing_reference import findings_rows as reference_rows


def awkward_table() -> pa.Table:
    """Duplicated keys (ties and not), NULL and float ids, and every evidence type a rule returns."""
    n = 9
    return pa.table(
        {
            "ENTITY_ID": pa.array(["E1", "E1", "E1", None, "E2", "E3", "E4", "E4", "E5"]),
            "period": pa.array(
                ["2024-01", "2024-01", "2024-01", "2024-01", None, "2024-02", "2024-03", "2024-03", "x"]
            ),
            "score": pa.array([1.0, 2.0, 2.0, 5.0, None, float("nan"), 0.1234567, 0.1234567, -0.0]),
            "kwh_at_stake": pa.array([None, 3.3333333, 1.0, 2.0, 1e17, None, 5.0, 5.0, 7.0]),
            "responsible_staff_id": pa.array(["S1", None, "S2", "S3", "S4", None, "B", "A", "S5"]),
            "ev_text": pa.array(['引号"\\', "中文", "a\nb", "x", None, "", "t", "t", "é"]),
            "ev_float": pa.array([30.0, -0.0, 2.00005, 1e-7, float("inf"), float("nan"), 1.5e16, None, 12345.67891]),
            "ev_dec": pa.array([Decimal("7.00000"), Decimal("7.25000"), None] + [Decimal("1.10000")] * 6),
            "ev_day": pa.array([date(2024, 1, d + 1) for d in range(n)]),
            "ev_at": pa.array([datetime(2024, 1, 1, 8, m) for m in range(n)]),
            "ev_count": pa.array([1, 2, 3, None, 5, 6, 7, 8, 9], pa.int64()),
            "ev_flag": pa.array([True, False, None, True, True, False, True, True, False]),
            "ev_list": pa.array([[1, 2], [], None, [3], [4], [5], [6], [7], [8]]),
        }
    )


def test_same_rows_as_the_per_row_packing():
    rule = load_catalog()[0]
    table = awkward_table()
    for exclude in (set(), {reference_rows(rule, table, "r", set())[0]["finding_id"]}):
        assert findings_rows(rule, table, "run-1", exclude) == reference_rows(rule, table, "run-1", exclude)
    picked = {r["entity_id"]: r for r in findings_rows(rule, table, "r", set())}
    assert picked["E1"]["score"] == 2.0  # the highest score of the key's three rows
    # the pick among tied rows does not depend on the order the engine returned them in
    backwards = table.take(list(range(table.num_rows))[::-1])
    assert {r["entity_id"]: r for r in findings_rows(rule, backwards, "r", set())} == picked
    assert picked["E5"]["evidence"].startswith('{"at":"2024-01-01T08:08:00","count":9,"day":"2024-01-09"')


def test_no_evidence_columns_and_float_keys():
    rule = load_catalog()[0]
    table = pa.table({"entity_id": pa.array([12.0, 7.5]), "period": pa.array([None, None], pa.string())})
    rows = findings_rows(rule, table, "r", set())
    assert rows == reference_rows(rule, table, "r", set())
    assert [r["entity_id"] for r in rows] == ["12", "7.5"] and {r["evidence"] for r in rows} == {"{}"}


def test_a_missing_key_column_is_named():
    rule = load_catalog()[0]
    with pytest.raises(RuleError, match="period"):
        findings_rows(rule, pa.table({"entity_id": ["E1"]}), "r", set())
