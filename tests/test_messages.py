"""Every message exists in both languages: an AST scan of src/ and CLI checks in both --lang modes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app

SRC = Path(__file__).resolve().parents[1] / "src" / "gridaudit"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# callable name → (index of the zh argument, index of the en argument); keywords zh=/en= also count
SHAPES = {
    "msg": (0, 1),
    "both": (0, 1),
    "Text": (0, 1),
    "AuditError": (0, 1),
    "NotFound": (0, 1),
    "Forbidden": (0, 1),
    "IllegalTransition": (0, 1),
    "Conflict": (0, 1),
    "ScheduleNotEntered": (0, 1),
    "StoreMissing": (0, 1),
    "Check": (2, 3),
    "SourceProblem": (1, 2),
    "unusable": (1, 2),
}

# Chinese an English text may quote verbatim (a term of the trade, a file name the reader must type)
EN_MAY_QUOTE = ("调休", "抄表示数_202402.csv")


def _literal(node: ast.AST) -> str | None:
    """The constant text of a str literal or f-string (formatted parts dropped); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        if left is not None or right is not None:
            return (left or "") + (right or "")
    return None


def _unquote(en: str) -> str:
    for term in EN_MAY_QUOTE:
        en = en.replace(term, "")
    return en


def _calls():  # noqa: ANN202
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if name not in SHAPES:
                continue
            iz, ie = SHAPES[name]
            kw = {k.arg: k.value for k in node.keywords}
            zh = node.args[iz] if len(node.args) > iz else kw.get("zh")
            en = node.args[ie] if len(node.args) > ie else kw.get("en")
            if zh is None or en is None:
                continue  # msg(text): a Text value, checked where it is built
            yield f"{path.relative_to(SRC)}:{node.lineno} {name}", _literal(zh), _literal(en)


def test_the_scan_finds_the_messages():
    found = list(_calls())
    assert len(found) > 450
    assert {where.split()[1] for where, *_ in found} >= {"msg", "both", "AuditError", "Check", "Forbidden"}


def test_every_literal_message_has_chinese_in_zh_and_none_in_en():
    bad = []
    for where, zh, en in _calls():
        if zh is not None and zh.strip() and re.search(r"[A-Za-z]{3}", zh) and not CJK.search(zh):
            bad.append(f"{where}: zh text has no Chinese: {zh!r}")
        if zh and zh == en and re.search(r"[A-Za-z]{3}", zh):
            bad.append(f"{where}: zh and en are the same text: {zh!r}")
        if en is not None and CJK.search(_unquote(en)):
            bad.append(f"{where}: en text has Chinese: {en!r}")
    assert not bad, "\n".join(bad)


def test_text_is_the_one_shape_msg_both_and_audit_error_accept():
    from gridaudit.audit.errors import AuditError
    from gridaudit.i18n import Text, both, msg, set_lang

    t = Text("未知任务 7", "unknown task 7")
    try:
        set_lang("en")
        assert msg(t) == msg(t.zh, t.en) == str(t) == "unknown task 7"
        assert both(t) == "unknown task 7 / 未知任务 7"
        assert AuditError(t).text() == AuditError(t.zh, t.en).text() == both(t)
        set_lang("zh")
        assert msg(t) == "未知任务 7" and both(t) == "未知任务 7 / unknown task 7"
    finally:
        set_lang("zh")
    with pytest.raises(TypeError):
        msg("only one language")


def test_a_state_has_one_english_name_its_id():
    from gridaudit.audit.workflow import STATES

    assert all(en == state for state, (_, en) in STATES.items())


def test_segregation_and_transition_english_reads_right():
    from types import SimpleNamespace

    from gridaudit.audit.errors import Forbidden, IllegalTransition
    from gridaudit.audit.workflow import apply, check_segregation

    task = SimpleNamespace(task_id=61, state="checked", responsible_staff_id="S1")
    with pytest.raises(Forbidden) as err:
        check_segregation("result", SimpleNamespace(user_id="zhou", staff_id="S1"), task, None)
    assert "may not record the result (segregation of duties)" in err.value.en and " it (" not in err.value.en
    with pytest.raises(IllegalTransition) as err:
        apply(task, "reply", "responsible")
    assert err.value.en.startswith("task 61 is checked; cannot reply") and "result recorded" not in err.value.en


runner = CliRunner()


def _err(args: list[str], lang: str) -> str:
    res = runner.invoke(app, ["--lang", lang, *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    return " ".join(res.output.split()).split("error: ", 1)[1]


@pytest.mark.parametrize(
    "args",
    [["contract", "--format", "json"], ["contract", "--table", "nosuch"], ["dataset", "info", "{tmp}"]],
    ids=["contract-format", "contract-table", "dataset-info-not-a-dataset"],
)
def test_listed_errors_come_in_both_languages_current_first(args, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    zh, en = _err(args, "zh"), _err(args, "en")
    assert CJK.search(zh.split(" / ")[0]) and not CJK.search(en.split(" / ")[0].replace(str(tmp_path), "")), (zh, en)
    assert zh != en and set(zh.split(" / ")) == set(en.split(" / "))


def test_risk_evaluate_names_its_metrics_in_the_language_chosen(tmp_path):
    import pandas as pd

    pd.DataFrame({"customer_id": ["a", "b", "c"], "score": [0.9, 0.5, 0.1]}).to_parquet(tmp_path / "s.parquet")
    pd.DataFrame({"customer_id": ["a", "b", "c"], "label": [1, 0, 0]}).to_csv(tmp_path / "l.csv", index=False)
    args = ["risk", "evaluate", "--scores", str(tmp_path / "s.parquet"), "--labels", str(tmp_path / "l.csv")]
    zh = runner.invoke(app, ["--lang", "zh", *args])
    en = runner.invoke(app, ["--lang", "en", *args])
    assert zh.exit_code == en.exit_code == 0, zh.output + en.output
    assert "ROC 曲线下面积 (roc_auc)" in zh.output and "前 50 名命中率 (precision_at_50)" in zh.output
    assert "ROC AUC (roc_auc)" in en.output and "precision in the top 50 (precision_at_50)" in en.output
    assert not CJK.search(en.output.replace("评估结果", ""))
