"""Settings files (YAML/TOML, per-unit bands), the ``gridaudit loss`` command and the demo step."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import findings_table, read_findings, write_findings
from gridaudit.lineloss.demo import run_demo
from gridaudit.lineloss.run import run_loss
from gridaudit.lineloss.settings import Bands, SettingsError, load_settings


def test_band_rule():
    b = Bands()
    assert [b.band(x, 1.0) for x in (-0.1, 0, 7, 7.01, 10, 10.5, 30.5)] == [
        "negative",
        "normal",
        "normal",
        "watch",
        "watch",
        "high",
        "extreme",
    ]
    assert b.band(5, 0.94) == "not_computable"
    assert b.band(5, 1.0, supply_ok=False) == "not_computable"


def test_yaml_and_toml_settings_with_unit_overrides(tmp_path, tiny):
    root, _ = tiny
    y = tmp_path / "loss.yaml"
    y.write_text(
        "bands:\n  levels:\n    area: {high_from: 12}\n  units:\n    U2: {area: {watch_from: 3, high_from: 5}}\n"
    )
    t = tmp_path / "loss.toml"
    t.write_text("[bands.levels.area]\nhigh_from = 12\n[bands.units.U2.area]\nwatch_from = 3\nhigh_from = 5\n")
    for path in (y, t):
        s = load_settings(path)
        assert s.bands_for("U1", "area").high_from == 12
        assert s.bands_for("U2", "area").high_from == 5
        assert s.bands_for("U2", "feeder").high_from == 10
        w = {r["entity_id"]: r for r in run_loss(root, settings=s).balance.window.to_pylist()}
        assert w["A4"]["band"] == "high"  # 6.7 % is high under U2's own bands
        assert w["A2"]["band"] == "watch"  # 9.8 % stays watch in U1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("bands:\n  default: {hihg_from: 3}\n", "hihg_from"),
        ("bands:\n  levels:\n    transformer: {high_from: 3}\n", "transformer"),
        ("bands:\n  default: {watch_from: 12, high_from: 10}\n", "bands.default"),
        ("trends: {rise_points: lots}\n", "trends.rise_points"),
        ("colours: {}\n", "colours"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path, text, needle):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(SettingsError) as e:
        load_settings(p)
    assert str(p) in str(e.value) and needle in str(e.value)


def test_cli_writes_tables_and_findings(tiny, tmp_path):
    root, _ = tiny
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app, ["--lang", "en", "loss", "--dataset", str(root), "--out-dir", str(out), "--level", "feeder"]
    )
    assert res.exit_code == 0, res.output
    assert "Worst feeders" in res.output or "No feeder" in res.output
    for stem in (
        "balance_daily",
        "balance_monthly",
        "balance_window",
        "billing_cycle",
        "technical_monthly",
        "suspects",
        "mapping",
        "trends",
        "findings",
    ):
        assert (out / f"{stem}.parquet").is_file(), stem
    levels = set(pq.read_table(out / "balance_monthly.parquet").column("level").to_pylist())
    assert levels == {"area", "feeder", "voltage", "unit"}
    assert read_findings(out / "findings.parquet").num_rows > 0


@pytest.mark.parametrize(
    "args",
    [
        ["--level", "transformer"],
        ["--period", "2025-13"],
        ["--period", "2025-02", "--from", "2025-01-01"],
        ["--from", "2025-03-01", "--to", "2025-01-01"],
        ["--from", "01/03/2025"],
    ],
)
def test_cli_rejects_bad_arguments(tiny, tmp_path, args):
    root, _ = tiny
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["loss", "--dataset", str(root), "--out-dir", str(out), *args])
    assert res.exit_code == 2, res.output
    assert not out.exists()


def test_cli_missing_table(tmp_path):
    from gridaudit.dataset import commit_version, open_dataset, stage_version

    from .lineloss_tiny import build_tiny

    build_tiny(tmp_path / "full")
    src = open_dataset(tmp_path / "full")
    st = stage_version(tmp_path / "ds")
    for t in src.tables():
        if t != "meters":
            st.write_table(t, src.read(t))
    commit_version(st, {"sources": ["test"]})
    res = CliRunner().invoke(app, ["loss", "--dataset", str(tmp_path / "ds"), "--out-dir", str(tmp_path / "o")])
    assert res.exit_code == 2 and "meters" in res.output


def test_demo_appends_findings(tiny, tmp_path, capsys):
    root, _ = tiny
    other = findings_table(
        [
            {
                "rule_id": "read_missed",
                "family": "reading",
                "severity": "low",
                "entity_type": "meter",
                "entity_id": "M1",
                "period": "2025-01",
            }
        ]
    )
    (tmp_path / "loss").mkdir()
    write_findings(other, tmp_path / "loss" / "findings.parquet")
    run_demo(root, tmp_path)
    f = read_findings(tmp_path / "loss" / "findings.parquet")
    rules = f.column("rule_id").to_pylist()
    assert "read_missed" in rules and "loss_mapping_error" in rules
    n = f.num_rows
    run_demo(root, tmp_path)  # re-running does not duplicate
    assert read_findings(tmp_path / "loss" / "findings.parquet").num_rows == n
    assert (tmp_path / "loss" / "balance_window.parquet").is_file()


def test_rerun_reissuing_every_finding_keeps_one_copy(tiny, tmp_path):
    from gridaudit.lineloss.run import write_outputs

    root, _ = tiny
    result = run_loss(root)
    write_outputs(result, tmp_path)
    n = read_findings(tmp_path / "findings.parquet").num_rows
    write_outputs(result, tmp_path)  # every old finding re-issued: nothing of the old file is kept
    assert read_findings(tmp_path / "findings.parquet").num_rows == n > 0


def test_cli_month_without_data_says_so_and_exits_2(tiny, tmp_path):
    root, _ = tiny
    res = CliRunner().invoke(app, ["--lang", "en", "loss", "--dataset", str(root), "--period", "2031-01"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert f"no data for 2031-01 in dataset {root} (daily_usage covers " in text and "not computable" not in text
    res = CliRunner().invoke(
        app, ["--lang", "en", "loss", "--dataset", str(root), "--from", "2020-01-01", "--to", "2020-01-31"]
    )
    assert res.exit_code == 2 and "no data for 2020-01 in dataset" in " ".join(res.output.split()), res.output
