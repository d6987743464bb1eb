"""Every command of the CLI documents itself: --help works and shows an example (DESIGN §6)."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from gridaudit.cli import app


def _leaf_commands(cmd, path: list[str]) -> list[list[str]]:
    if hasattr(cmd, "commands"):  # a group (typer may bring its own click)
        return [p for name, sub in sorted(cmd.commands.items()) for p in _leaf_commands(sub, [*path, name])]
    return [path]


def test_every_command_has_help_with_an_example():
    commands = _leaf_commands(typer.main.get_command(app), [])
    assert len(commands) >= 20
    runner = CliRunner()
    lacking = []
    for path in commands:
        out = runner.invoke(app, [*path, "--help"])
        if out.exit_code != 0 or "Example" not in out.stdout:
            lacking.append(" ".join(path))
    assert not lacking, f"commands without --help example: {lacking}"


def test_readme_lists_every_top_level_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    top = typer.main.get_command(app)
    undocumented = [name for name in top.commands if f"gridaudit {name}" not in readme]
    assert not undocumented, f"README does not mention: {undocumented}"
