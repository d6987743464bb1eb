import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import FINDINGS_SCHEMA

runner = CliRunner()


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_cli_train_score_evaluate(risk_ds, tmp_path):
    root, info = risk_ds
    model = tmp_path / "risk.model"
    r = runner.invoke(app, ["--lang", "en", "risk", "train", "--dataset", str(root), "--model", str(model)])
    assert r.exit_code == 0, r.output
    assert "lightgbm" in r.output and model.is_file()
    out = tmp_path / "scores.parquet"
    r = runner.invoke(
        app, ["risk", "score", "--dataset", str(root), "--model", str(model), "--out", str(out), "--top", "7"]
    )
    assert r.exit_code == 0, r.output
    scores = pd.read_parquet(out)
    assert {"customer_id", "score", "rank", "explanation_zh", "explanation_en", "reasons"} <= set(scores.columns)
    f = pq.read_table(tmp_path / "scores_findings.parquet")
    assert f.num_rows == 7 and f.schema == FINDINGS_SCHEMA
    labels = tmp_path / "labels.csv"
    pd.DataFrame(
        {"customer_id": info["ids"], "label": [int(c in info["thieves"]) for c in info["ids"]], "yuan": 10.0}
    ).to_csv(labels, index=False)
    r = runner.invoke(app, ["risk", "evaluate", "--scores", str(out), "--labels", str(labels), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    assert m["roc_auc"] > 0.9 and 0 <= m["ap_at_100"] <= 1 and m["yuan_at_100"] > 0 and "map_at_100" in m


def test_cli_train_with_augmentation(risk_ds, tmp_path):
    root, info = risk_ds
    model = tmp_path / "aug.model"
    args = ["--lang", "en", "risk", "train", "--dataset", str(root), "--model", str(model), "--augment", "1"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    meta = json.loads((tmp_path / "aug.model.json").read_text("utf-8"))
    n_normal = sum(1 for row in info["inspections"] if row[3] == "normal")
    assert 0 < meta["labels"]["augmented_rows"] <= n_normal and "synthetic theft rows" in flat(r.output)


def test_cli_errors_name_the_problem(risk_ds, tmp_path):
    root, _ = risk_ds
    r = runner.invoke(
        app, ["--lang", "en", "risk", "score", "--dataset", str(tmp_path), "--out", str(tmp_path / "s.parquet")]
    )
    assert r.exit_code == 2 and "not a gridaudit dataset" in flat(r.output)
    out = tmp_path / "s.parquet"
    assert runner.invoke(app, ["risk", "score", "--dataset", str(root), "--out", str(out)]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,label\nC0001,1\nC0002,yes\n", "utf-8")
    r = runner.invoke(app, ["--lang", "en", "risk", "evaluate", "--scores", str(out), "--labels", str(bad)])
    assert r.exit_code == 2 and "row 3" in flat(r.output) and "label" in flat(r.output)
    r = runner.invoke(app, ["--lang", "en", "risk", "score", "--dataset", str(root), "--out", str(out),
                            "--model", str(tmp_path / "missing.model")])  # fmt: skip
    assert r.exit_code == 2 and "not found" in flat(r.output)


def test_demo_writes_scores_and_findings(risk_ds, tmp_path):
    from gridaudit.risk.demo import run_demo

    root, _ = risk_ds
    run_demo(root, tmp_path)
    assert pq.read_table(tmp_path / "risk_scores.parquet").num_rows == 200
    assert pq.read_table(tmp_path / "risk_findings.parquet").num_rows == 100


def test_every_risk_command_has_help_with_example():
    for cmd in ("train", "score", "evaluate"):
        r = runner.invoke(app, ["risk", cmd, "--help"])
        assert r.exit_code == 0 and "gridaudit risk " + cmd in r.output


def test_cli_train_explains_how_inspections_became_labels(risk_ds, tmp_path):
    root, info = risk_ds
    until = sorted(r[2] for r in info["inspections"])[len(info["inspections"]) // 2]
    model = tmp_path / "m.model"
    args = ["--lang", "en", "risk", "train", "--dataset", str(root), "--model", str(model), "--until", str(until)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    labels = json.loads((tmp_path / "m.model.json").read_text("utf-8"))["labels"]
    late = sum(1 for row in info["inspections"] if row[2] > until)
    read = len(info["inspections"])
    assert (labels["inspections_read"], labels["after_until"]) == (read, late) and late > 0
    assert labels["rows"] == read - late - labels["skipped_without_usage"]
    text = flat(r.output)
    assert f"inspections read {read}; after --until {late}" in text
    assert f"→ {labels['rows']} labels ({labels['positives']} theft/violation" in text


def test_cli_score_top_n_rows_and_stored_explanations_do_not_depend_on_the_language(risk_ds, tmp_path):
    import shutil

    outs = {}
    for lang in ("en", "zh"):
        root = shutil.copytree(risk_ds[0], tmp_path / f"ds-{lang}")  # the same store state for both runs
        out = tmp_path / f"{lang}.parquet"
        r = runner.invoke(
            app, ["--lang", lang, "risk", "score", "--dataset", str(root), "--out", str(out), "--top", "5"]
        )
        assert r.exit_code == 0, r.output
        rows = [line for line in r.output.splitlines() if line.startswith("│") and line.split("│")[1].strip()]
        assert [line.split("│")[1].strip() for line in rows] == ["1", "2", "3", "4", "5"], r.output
        outs[lang] = pd.read_parquet(out)
    assert "explanation" not in outs["en"].columns
    for col in ("explanation_zh", "explanation_en", "reasons"):
        assert outs["en"][col].tolist() == outs["zh"][col].tolist()


@pytest.mark.postgres
def test_cli_score_and_train_on_postgres_give_duckdb_results(risk_ds, tmp_path, pg_url):
    """`risk train` / `risk score --engine postgres --pg URL` compute the features on PostgreSQL: the same
    out-of-fold AUC and the same ranking as on DuckDB; a bad engine option exits 2.

    Features agree to 1e-9 (test_portable.py), not bit for bit: the out-of-fold models (and so the calibrator)
    may split at other bins, so calibrated scores are compared loosely, raw scores and the ranking closely."""
    root, _ = risk_ds
    scores, metrics = {}, {}
    for name, extra in (("duckdb", []), ("postgres", ["--engine", "postgres", "--pg", pg_url])):
        model = tmp_path / f"{name}.model"
        r = runner.invoke(app, ["--lang", "en", "risk", "train", "--dataset", str(root), "--model", str(model), *extra])
        assert r.exit_code == 0, r.output
        metrics[name] = json.loads((tmp_path / f"{name}.model.json").read_text("utf-8"))["metrics"]
        out = tmp_path / f"{name}.parquet"
        args = ["--lang", "en", "risk", "score", "--dataset", str(root), "--model", str(model), "--out", str(out)]
        r = runner.invoke(app, [*args, "--top", "5", *extra])
        assert r.exit_code == 0, r.output
        scores[name] = pd.read_parquet(out)
    assert metrics["postgres"]["oof_roc_auc"] == pytest.approx(metrics["duckdb"]["oof_roc_auc"], abs=1e-9)
    a, b = scores["duckdb"], scores["postgres"]
    assert list(a["customer_id"]) == list(b["customer_id"])
    assert np.allclose(a["raw_score"], b["raw_score"], atol=1e-6) and np.allclose(a["score"], b["score"], atol=0.05)
    from gridaudit.findings.store import list_runs

    assert "postgres" in {r.engine for r in list_runs(root, ["risk"])}  # a run records the engine of its features
    r = runner.invoke(app, ["--lang", "en", "risk", "score", "--dataset", str(root), "--engine", "postgres"])
    assert r.exit_code == 2 and "--pg" in flat(r.output)
