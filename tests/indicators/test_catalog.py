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
