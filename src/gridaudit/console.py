"""Shared terminal output for the CLI: one rich console, errors with exit codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

console = Console()
err_console = Console(stderr=True)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNUSABLE = 2


def die(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with ``code`` (2: unusable input or arguments)."""
    err_console.print(f"[bold red]error[/]: {message}", highlight=False)
    raise typer.Exit(code)


def use_lang(lang: str) -> None:
    """Set the language of messages from ``--lang`` / ``$GRIDAUDIT_LANG``; an unknown one exits 2."""
    from gridaudit.i18n import LANGS, set_lang

    if lang not in LANGS:
        die(
            f"未知语言 {lang!r}（--lang 或 GRIDAUDIT_LANG）：可选 {' / '.join(LANGS)} / "
            f"unknown language {lang!r} (--lang or GRIDAUDIT_LANG): use {' or '.join(LANGS)}"
        )
    set_lang(lang)


def example(*lines: str) -> str:
    """An 'Example' block for a command's --help epilog."""
    body = "\n\n".join(f"  $ {line}" for line in lines)
    return f"Example / 示例:\n\n{body}"


def progress_bar(transient: bool = True) -> Progress:
    """The progress bar long commands show: description, bar, done/total and elapsed time."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )
