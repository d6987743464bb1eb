"""``gridaudit contract``: print the import contract."""

from __future__ import annotations

import typer
from rich.table import Table as RichTable

from gridaudit.console import console, die, example
from gridaudit.contract.render import contract_markdown
from gridaudit.contract.spec import load_contract
from gridaudit.i18n import both


def contract(
    format: str = typer.Option(
        "table", "--format", "-f", help="table (terminal) or md (Markdown, as docs/contract.md)"
    ),
    table: str = typer.Option(None, "--table", "-t", help="Show one table only."),
) -> None:
    """Print the import contract: the 17 tables, their columns, checks and Chinese headers (导入规范)."""
    c = load_contract()
    if format == "md":
        typer.echo(contract_markdown(c), nl=False)
        return
    if format != "table":
        die(both(f"--format 应为 table 或 md，而不是 {format!r}", f"--format must be table or md, not {format!r}"))
    names = [table] if table else list(c.tables)
    for name in names:
        if name not in c.tables:
            die(
                both(
                    f"未知表 {name!r}；可用: {', '.join(c.tables)}",
                    f"unknown table {name!r}; tables: {', '.join(c.tables)}",
                )
            )
        t = c.tables[name]
        rt = RichTable(title=f"{t.name} — {t.title.zh} / {t.title.en}  key: {', '.join(t.key)}", title_justify="left")
        for heading in ("column", "type", "req", "domain / range", "中文表头"):
            rt.add_column(heading)
        for col in t.columns.values():
            rng = col.domain or " ".join(
                s
                for s in (
                    f">{col.gt:g}" if col.gt is not None else "",
                    f"≥{col.min:g}" if col.min is not None else "",
                    f"≤{col.max:g}" if col.max is not None else "",
                    "≤today" if col.not_future else "",
                )
                if s
            )
            rt.add_row(col.name, col.type, "✓" if col.required else "", rng, ", ".join(col.aliases))
        console.print(rt)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit contract`` to the CLI."""
    app.command(
        "contract",
        epilog=example(
            "gridaudit contract",
            "gridaudit contract --table readings",
            "gridaudit contract --format md > docs/contract.md",
        ),
    )(contract)
