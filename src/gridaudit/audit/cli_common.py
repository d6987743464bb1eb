"""What every ``gridaudit audit …`` command module shares: the typer groups, the --store/--user options,
``run`` (one transaction per command, refusals as zh/en text) and argument parsers.

:mod:`gridaudit.audit.cli` and its command modules (cli_people, cli_plans, cli_tasks, cli_reports) all import
from here and never from each other, so the audit CLI has no import cycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import typer

from gridaudit.cli_options import day_value
from gridaudit.cli_options import split_list as split_values
from gridaudit.console import die
from gridaudit.i18n import both

STORE_HELP = "Case store: a SQLite file/folder or postgresql://… URL / 案件库（env GRIDAUDIT_STORE）"
USER_HELP = "Acting user id / 操作人（env GRIDAUDIT_USER）"

StoreOpt = typer.Option(None, "--store", envvar="GRIDAUDIT_STORE", help=STORE_HELP)
UserOpt = typer.Option(None, "--user", envvar="GRIDAUDIT_USER", help=USER_HELP)

audit_app = typer.Typer(
    help="Audit loop: plans, tasks, rectification, assessment, audit trail (稽查闭环).", no_args_is_help=True
)
users_app = typer.Typer(help="Users and roles (用户与角色).", no_args_is_help=True)
plan_app = typer.Typer(help="Monthly audit plans (月度稽查计划).", no_args_is_help=True)
tasks_app = typer.Typer(help="Audit tasks through the workflow (稽查任务).", no_args_is_help=True)
audit_app.add_typer(users_app, name="users")
audit_app.add_typer(plan_app, name="plan")
audit_app.add_typer(tasks_app, name="tasks")


def run(
    store: str | None,
    fn: Callable[[Any, Any], Any],
    attachments: str | None = None,
    user: str | None = None,
    read: bool = False,
) -> Any:
    """Open the store, run ``fn(session, store)`` in one transaction; refused commands exit 2 with zh/en text.

    ``read=True`` (read-only commands): ``user`` is required once the store has users, and must exist and be
    active (``access.reader``); ``fn`` applies its unit scope. Without ``read``, a given ``user`` is checked."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.store import open_store

    try:
        st = open_store(store, attachments)
    except AuditError as exc:
        die(exc.text())
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with st.transaction() as session:
            if read or user:
                from gridaudit.audit.access import reader

                reader(session, user)
            return fn(session, st)
    except AuditError as exc:
        die(exc.text())
    except SQLAlchemyError as exc:  # e.g. a lock timeout or a lost connection: nothing was committed
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        die(both(f"案件库错误，本次操作未保存: {reason}", f"case store error, nothing was saved: {reason}"))
    finally:
        st.dispose()


def parse_day(value: date | str | None, opt: str) -> date | None:
    """A date option's value (parsed by gridaudit.cli_options.date_option; a str is parsed the same way)."""
    return day_value(value, opt)


def split_list(values: list[str] | None) -> list[str] | None:
    """A list filter's values (repeat or a,b; gridaudit.cli_options.split_list), None when empty."""
    return split_values(values) or None
