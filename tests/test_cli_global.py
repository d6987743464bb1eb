"""Global options: ``--version`` alone, ``--lang`` and ``$GRIDAUDIT_LANG`` (unknown → exit 2, no traceback)."""

from __future__ import annotations

from typer.testing import CliRunner

from gridaudit import __version__
from gridaudit.cli import app

runner = CliRunner()


def test_version_alone_prints_the_version():
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == __version__
    assert "Missing command" not in res.output


def test_unknown_lang_option_is_exit_2_bilingual_without_traceback():
    res = runner.invoke(app, ["--lang", "fr", "rules", "list"])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "unknown language 'fr'" in text and "未知语言 'fr'" in text
    assert "Traceback" not in res.output and "ValueError" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def test_gridaudit_lang_env_chooses_the_language():
    en = runner.invoke(app, ["rules", "show", "nope"], env={"GRIDAUDIT_LANG": "en"})
    zh = runner.invoke(app, ["rules", "show", "nope"], env={"GRIDAUDIT_LANG": "zh"})
    assert en.exit_code == zh.exit_code == 2
    assert en.output.strip().startswith("error: unknown rule: nope")  # English first
    assert zh.output.strip().startswith("error: 未知规则：nope")
    # the option beats the environment
    opt = runner.invoke(app, ["--lang", "zh", "rules", "show", "nope"], env={"GRIDAUDIT_LANG": "en"})
    assert opt.output == zh.output


def test_gridaudit_lang_env_english_list_headers():
    res = runner.invoke(app, ["rules", "list", "--family", "billing"], env={"GRIDAUDIT_LANG": "en"})
    assert res.exit_code == 0, res.output
    res_zh = runner.invoke(app, ["rules", "list", "--family", "billing"], env={"GRIDAUDIT_LANG": None})
    assert res_zh.exit_code == 0 and res.output != res_zh.output  # zh is the default


def test_unknown_gridaudit_lang_env_is_exit_2():
    res = runner.invoke(app, ["rules", "list"], env={"GRIDAUDIT_LANG": "english"})
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "unknown language 'english'" in text and "GRIDAUDIT_LANG" in text
    assert "Traceback" not in res.output


def test_a_commands_own_lang_option_is_checked_the_same_way(tmp_path):
    res = runner.invoke(app, ["dataset", "info", str(tmp_path), "--lang", "jp"])
    assert res.exit_code == 2, res.output
    assert "unknown language 'jp'" in " ".join(res.output.split()) and "Traceback" not in res.output
