"""Indicator files are validated when they load: the output shape, the sandbox, tables, levels, parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gridaudit.indicators.catalog import IndicatorError, load_catalog, load_indicator

GOOD = {
    "id": "x_rate",
    "title": {"zh": "某率", "en": "some rate"},
    "definition": {"zh": "定义", "en": "definition"},
    "unit": "pct",
    "levels": ["staff", "station"],
    "direction": "lower_better",
    "aggregate": "ratio",
    "scale": 100,
    "tables": ["readings"],
    "source": {"zh": "数据集", "en": "dataset"},
    "sql": "select meter_id as item_id, period as unit_id, reader_id as person_id, 1 as num, 1 as den "
    "from readings where period = $month",
}


def write(tmp_path: Path, **change) -> Path:
    p = tmp_path / f"{change.get('id', 'x_rate')}.yaml"
    p.write_text(yaml.safe_dump({**GOOD, **change}, allow_unicode=True), "utf-8")
    return p


def test_a_good_file_loads(tmp_path):
    ind = load_indicator(write(tmp_path))
    assert ind.person_level == "staff" and ind.scale == 100


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sql": "select meter_id as item_id, 1 as num from readings"}, "must select exactly item_id"),
        ({"sql": "delete from readings"}, "only SELECT/WITH"),
        ({"sql": GOOD["sql"].replace("readings", "bills")}, "reads tables it may not"),
        ({"sql": GOOD["sql"].replace("$month", "$nope")}, "undeclared parameters"),
        ({"sql": GOOD["sql"].replace("1 as num", "current_setting('x') as num")}, "not allowed"),
        ({"tables": ["readingz"]}, "not contract tables"),
        ({"inputs": ["nothing"]}, "not among"),
        ({"levels": ["staff", "area_manager"]}, "at most one person level"),
        ({"levels": ["district"]}, "not among"),
        ({"aggregate": "sum"}, "scale applies to ratios only"),
        ({"unit": "furlongs"}, "unit"),
        ({"title": {"zh": "某率"}}, "title.en"),
    ],
)
def test_bad_files_are_refused_naming_file_and_field(tmp_path, change, message):
    with pytest.raises(IndicatorError, match=message) as err:
        load_indicator(write(tmp_path, **change))
    assert "x_rate.yaml" in str(err.value)


def test_id_must_equal_the_file_stem(tmp_path):
    p = write(tmp_path)
    p.rename(tmp_path / "other.yaml")
    with pytest.raises(IndicatorError, match="must equal the file stem"):
        load_indicator(tmp_path / "other.yaml")


def test_every_builtin_indicator_loads_with_both_languages():
    for ind in load_catalog():
        assert ind.title.zh != ind.title.en and ind.definition.zh and ind.definition.en


def test_a_month_without_data_is_an_error_not_zeros(utility):
    """Assessing a month the dataset has no data for is refused naming the span (not 0 % coverage)."""
    from gridaudit.indicators.assess import assess_month

    root, _ = utility
    with pytest.raises(IndicatorError, match=r"no data for 2025-05 .*covers 2025-02\.\.2025-03"):
        assess_month(root, "2025-05")
    a = assess_month(root, "2025-02")  # the month before has no data: no change, said so
    assert any("no data for 2025-01" in n.en for n in a.notes) and all(s.prev_score is None for s in a.standings)


def test_collection_counts_days_not_rows_when_registers_split_a_day(tmp_path):
    """Two registers on one day are one day with data (the cheap count is used only without registers)."""
    from datetime import date

    import pyarrow as pa

    from gridaudit.dataset import commit_version, open_dataset, stage_version
    from gridaudit.indicators.method import load_method
    from gridaudit.indicators.values import compute

    st = stage_version(tmp_path / "ds")
    st.write_table(
        "units", pa.Table.from_pylist([{"unit_id": "U", "name": "所", "parent_id": None, "level": "station"}])
    )
    st.write_table(
        "areas", pa.Table.from_pylist([{"area_id": "A", "feeder_id": "F", "unit_id": "U", "manager_id": "M"}])
    )
    st.write_table("customers", pa.Table.from_pylist([
        {"customer_id": "C", "unit_id": "U", "category": "commercial", "tariff_code": "T", "voltage_kv": 0.4,
         "contract_kva": 50.0, "status": "active", "area_id": "A"}]))  # fmt: skip
    st.write_table("meters", pa.Table.from_pylist([{"meter_id": "MC", "role": "customer", "multiplier": 1.0,
                                                    "customer_id": "C"}]))  # fmt: skip
    rows = [
        {"meter_id": "MC", "day": date(2025, 4, d), "kwh": 1.0, "register": r}
        for d in (1, 2, 3)
        for r in ("peak", "valley")
    ]
    st.write_table("daily_usage", pa.Table.from_pylist(rows))
    commit_version(st, {"sources": []})
    catalog = [i for i in load_catalog() if i.id == "collection_success_rate"]
    method, _ = load_method(None, load_catalog())
    got = compute(open_dataset(tmp_path / "ds"), "2025-04", catalog, method.level_of)
    v = next(x for x in got.values if x.level == "station")
    assert (v.num, v.den) == (3.0, 30.0)
