"""The ``gridaudit`` command: a thin typer layer; each part registers its own commands."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from gridaudit import __version__
from gridaudit.console import die, example, use_lang
from gridaudit.strict_options import StrictGroup

app = typer.Typer(
    name="gridaudit",
    help="gridaudit — marketing audit and revenue protection for power supply companies (营销稽查与反窃电).",
    epilog=example("gridaudit demo", "gridaudit ingest exports/ --dataset ds", "gridaudit contract --format md"),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    cls=StrictGroup,  # no option may be repeated and keep only its last value
)

# Each part of gridaudit owns a module with ``register(app)``. Every part is imported: a part that fails to
# import is an error (the traceback names it), never a command that silently goes missing.
PARTS = (
    "gridaudit.contract.cli",
    "gridaudit.ingest.cli",
    "gridaudit.synth.cli",
    "gridaudit.rules.cli",
    "gridaudit.findings.cli",
    "gridaudit.lineloss.cli",
    "gridaudit.risk.cli",
    "gridaudit.audit.cli",
    "gridaudit.calendar_cli",
    "gridaudit.demo",
    "gridaudit.web.cli",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.callback()
def main(
    lang: str = typer.Option(
        "zh", "--lang", envvar="GRIDAUDIT_LANG", show_envvar=True, help="Language of messages: zh or en / 提示语言"
    ),
    calendar: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            envvar="GRIDAUDIT_CALENDAR",
            show_envvar=True,
            help="Holiday calendar file (YAML, docs/calendar.md) extending chinese-calendar / 节假日日历文件",
        ),
    ] = None,
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """gridaudit: screen a utility's marketing and metering data, balance line loss, score theft risk,
    run the audit loop (营销稽查: 内部稽查与外部检查)."""
    from gridaudit import workdays
    from gridaudit.calendar_file import CalendarError

    use_lang(lang)
    try:
        workdays.configure(calendar)
    except CalendarError as exc:
        die(str(exc))


def _register_parts() -> None:
    for name in PARTS:
        importlib.import_module(name).register(app)


_register_parts()


def run() -> None:
    """Console-script entry point."""
    app()
