"""The one settings loader (gridaudit.settings_file): unknown keys are errors, values are typed, every
setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.lineloss import settings as loss
from gridaudit.lineloss.settings import load_settings
from gridaudit.risk.settings import RiskSettings
from gridaudit.settings_file import SettingsError, read_settings_file, setting_names, settings_from_mapping
from gridaudit.sqlconsole import ConsoleSettings
from gridaudit.synth.config import Rates, load_rates

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_yaml_and_toml_read_alike(tmp_path):
    (tmp_path / "s.yaml").write_text("trends: {rise_points: 4, high_months: 2}\n", "utf-8")
    (tmp_path / "s.toml").write_text("[trends]\nrise_points = 4\nhigh_months = 2\n", "utf-8")
    a, b = load_settings(tmp_path / "s.yaml"), load_settings(tmp_path / "s.toml")
    assert a == b and a.trends == loss.Trends(rise_points=4.0, high_months=2)
    (tmp_path / "empty.yaml").write_text("", "utf-8")
    assert read_settings_file(tmp_path / "empty.yaml") == {}


def test_unknown_keys_name_the_file_and_the_key(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("trends: {rise_pionts: 4}\n", "utf-8")
    with pytest.raises(SettingsError, match=r"s\.yaml: trends: unknown setting\(s\) rise_pionts \(known: rise_points"):
        load_settings(f)
    with pytest.raises(SettingsError, match="unknown setting.*nope"):
        RiskSettings.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="unknown irregularity kind theft_bypas "):
        load_rates(None, ["theft_bypas=0.1"])


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (loss.Trends, {"high_months": 2.5}),  # not a whole number
        (loss.Trends, {"rise_points": "lots"}),
        (loss.Behind, {"event_types": "magnetic"}),  # a list is needed
        (RiskSettings, {"positive_outcomes": 3}),
        (RiskSettings, {"lgbm_params": [1, 2]}),
        (RiskSettings, {"memory_limit": ["4GB"]}),
    ],
)
def test_values_must_fit_the_setting(cls, values):
    key = next(iter(values))
    with pytest.raises(SettingsError, match=rf"where\.{key}: invalid value"):
        settings_from_mapping(cls, values, "where")


def test_round_trip_restores_tuples():
    s = RiskSettings(severity_bands=((0.9, "critical"), (0.0, "low")), positive_outcomes=("theft",))
    data = {k: list(v) if isinstance(v, tuple) else v for k, v in s.to_dict().items()}  # as JSON gives them back
    data["severity_bands"] = [list(b) for b in s.severity_bands]
    assert RiskSettings.from_dict(data) == s
    assert settings_from_mapping(loss.Technical, {"line_r_eq_ohm": 2}, "t").line_r_eq_ohm == 2.0


@pytest.mark.parametrize(
    ("doc", "classes"),
    [
        ("lineloss.md", [loss.Bands, loss.Trends, loss.Behind, loss.Mapping, loss.Technical]),
        ("risk.md", [RiskSettings]),
        ("synth.md", [Rates]),
        ("web-findings.md", [ConsoleSettings]),
    ],
)
def test_every_setting_is_documented(doc, classes):
    text = (DOCS / doc).read_text("utf-8")
    missing = [f"{c.__name__}.{n}" for c in classes for n in setting_names(c) if n not in text]
    assert not missing, f"docs/{doc} does not mention {missing}"
