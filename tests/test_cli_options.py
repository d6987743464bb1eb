"""The option convention (docs/cli.md), checked for every option of every command, and its helpers."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from gridaudit import cli_options as co
from gridaudit.cli import app

runner = CliRunner()


def _commands(cmd, path=()):  # noqa: ANN001, ANN202 - click objects (typer brings its own click)
    yield path, cmd
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _options():  # noqa: ANN202
    for path, cmd in _commands(typer.main.get_command(app)):
        for p in cmd.params:
            if p.param_type_name == "option":
                yield path, cmd, p


def _long(p) -> str:  # noqa: ANN001
    return max(p.opts, key=len)


def test_the_walk_sees_every_command():
    paths = {" ".join(path) for path, _ in _commands(typer.main.get_command(app))}
    assert {"audit tasks result", "findings list", "loss", "risk score", "rules run", "synth", "demo"} <= paths
    assert sum(1 for _ in _options()) > 150


def test_a_short_flag_has_one_meaning_everywhere():
    meanings: dict[str, set[str]] = {}
    for path, _, p in _options():
        for short in (o for o in p.opts + p.secondary_opts if not o.startswith("--")):
            meanings.setdefault(short, set()).add(_long(p))
            assert co.SHORT_FLAGS.get(short) == _long(p), (
                f"{' '.join(path)}: {short} for {_long(p)} is not in SHORT_FLAGS"
            )
    assert all(len(v) == 1 for v in meanings.values()), meanings


def test_out_is_a_file_and_out_dir_a_folder():
    seen = set()
    for path, _, p in _options():
        name, kind = _long(p), co.option_kind(p)
        where = " ".join(path)
        if name == "--out":
            assert kind == "out_file" and p.metavar == "FILE", where
        elif name == "--out-dir":
            assert kind == "out_dir" and p.metavar == "DIR", where
        else:
            assert kind not in ("out_file", "out_dir"), where
            assert not name.startswith("--out-") and name not in ("--xlsx", "--output", "--outdir"), f"{where}: {name}"
        seen.add(kind)
    assert {"out_file", "out_dir"} <= seen


def test_every_multi_value_option_is_a_list_filter_or_declared_repeat_only():
    for path, _, p in _options():
        if p.multiple:
            assert co.option_kind(p) in ("list", "repeat"), f"{' '.join(path)} {_long(p)}"
        if co.option_kind(p) == "list":
            assert p.multiple and p.callback is not None, f"{' '.join(path)} {_long(p)}"


def test_list_filter_names_take_lists_unless_declared_single_valued():
    declared = set(co.SINGLE_VALUED)
    for path, _, p in _options():
        if _long(p) in co.LIST_NAMES:
            key = (*path, _long(p))
            if key in declared:
                declared.discard(key)
                assert not p.multiple, f"{key} is declared single-valued but takes a list"
            else:
                assert co.option_kind(p) == "list", f"{' '.join(path)} {_long(p)} should be a list filter"
    assert not declared, f"SINGLE_VALUED names options that do not exist: {declared}"


def test_every_date_and_month_option_is_parsed_by_the_helper():
    kinds = {}
    for path, _, p in _options():
        name, kind, text = _long(p), co.option_kind(p), p.help or ""
        where = f"{' '.join(path)} {name}"
        if name in co.DATE_NAMES or "YYYY-MM-DD" in text:
            assert kind == "date" and p.metavar == "YYYY-MM-DD", where
        elif name in co.MONTH_NAMES or "YYYY-MM" in text:
            assert kind in ("month", "period"), where
        if kind in ("date", "month", "period"):
            parser = p.type_descriptor.parameter_info.parser
            assert parser.__qualname__ == f"parse_{kind}[{name}]", where
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds.get("date", 0) >= 10 and kinds.get("month", 0) >= 8 and kinds.get("period", 0) == 2


def test_deprecated_aliases_point_at_real_hidden_spellings():
    tree = dict(_commands(typer.main.get_command(app)))
    for path, aliases in co.DEPRECATED.items():
        assert path in tree, path
        spellings = {o for p in tree[path].params for o in p.opts + p.secondary_opts}
        for old, new in aliases.items():
            assert new in spellings, (path, new)
            assert old not in spellings, f"{path}: {old} is still a visible option"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    "args,option",
    [
        (["audit", "tasks", "list", "--today", "2025-13-01"], "--today"),
        (["audit", "penalty", "theft", "--date", "20230510"], "--date"),
        (["loss", "--dataset", "nowhere", "--from", "2025/01/01"], "--from"),
        (["risk", "train", "--dataset", "x", "--model", "m", "--until", "yesterday"], "--until"),
        (["rules", "run", "--dataset", "x", "--period", "2024-1"], "--period"),
        (["synth", "--out-dir", "x", "--start", "2024-00"], "--start"),
        (["findings", "list", "--dataset", "x", "--period", "2024-05..2024-01"], "--period"),
    ],
)
def test_a_bad_date_is_one_bilingual_error_naming_the_option(lang, args, option):
    res = runner.invoke(app, ["--lang", lang, *args])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert f"{option} 应为" in text and f"{option} must be" in text, text
    first = text.split("error: ", 1)[1]
    assert first.startswith(f"{option} must be" if lang == "en" else f"{option} 应为")
    assert "Traceback" not in res.output


def _params(args: list[str]) -> dict:
    cmd = typer.main.get_command(app)
    (*path,) = args[: args.index("--")]
    for name in path:
        cmd = cmd.commands[name]
    return cmd.make_context(" ".join(path), args[args.index("--") + 1 :]).params


def test_list_filters_take_repeats_and_comma_lists_alike():
    p = _params(["findings", "list", "--", "--dataset", "d", "--family", "billing,theft", "--family", "loss"])
    assert p["family"] == ["billing", "theft", "loss"]
    p = _params(["rules", "run", "--", "--dataset", "d", "--only", "a", "--only", "b,c"])
    assert p["only"] == ["a", "b", "c"]
    p = _params(["risk", "evaluate", "--", "--scores", "s", "--labels", "l"])
    assert p["k"] == ["50", "100", "200"]


def test_dates_and_months_arrive_parsed():
    from datetime import date

    p = _params(["audit", "tasks", "result", "--", "1", "--outcome", "normal", "--on", "2025-07-03"])
    assert p["inspected_on"] == date(2025, 7, 3)
    p = _params(["loss", "--", "--dataset", "d", "--period", "2025-06"])
    assert p["period"] == "2025-06" and p["date_from"] is None


def test_old_spellings_still_work_with_a_warning(tmp_path):
    out = tmp_path / "a.xlsx"
    res = runner.invoke(
        app,
        [
            "--lang",
            "en",
            "audit",
            "export",
            "--month",
            "2025-07",
            "--xlsx",
            str(out),
            "--store",
            str(tmp_path / "no.db"),
        ],
    )
    assert res.exit_code == 2  # the store does not exist; the old spelling itself was accepted
    text = " ".join(res.output.split())
    assert "option --xlsx is now --out" in text and "No such option" not in text
    # old and new spelling together are one option given twice
    res = runner.invoke(app, ["synth", "--out", "a", "--out-dir", "b"])
    assert res.exit_code == 2 and "--out-dir" in res.output and "只能给出一次" in res.output


def test_rewrite_deprecated_stops_at_double_dash_and_keeps_values():
    args, used = co.rewrite_deprecated(("audit", "export"), ["--xlsx=a.xlsx", "--month", "2025-07", "--", "--xlsx"])
    assert args == ["--out=a.xlsx", "--month", "2025-07", "--", "--xlsx"] and used == [("--xlsx", "--out")]
    assert co.rewrite_deprecated(("rules", "run"), ["--out", "f"]) == (["--out", "f"], [])


def test_parsers():
    from datetime import date

    assert co.parse_date("2024-02-29", "--on") == date(2024, 2, 29)
    assert co.parse_month("2024-12", "--month") == "2024-12"
    assert co.parse_period("2024-01..2024-03", "--period") == "2024-01..2024-03"
    assert co.split_list(["a, b", "", "c,,"]) == ["a", "b", "c"] and co.split_list(None) == []
    for bad in ("2024-02-30", "20240229", "2024-W01-1", " 2024-02-01"):
        with pytest.raises(typer.Exit):
            co.parse_date(bad, "--on")
    for bad in ("2024-13", "2024-1", "202401"):
        with pytest.raises(typer.Exit):
            co.parse_month(bad, "--month")
