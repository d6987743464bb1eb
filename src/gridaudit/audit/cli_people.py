"""``gridaudit audit users deactivate|activate|role|unit`` and ``gridaudit audit units sync|list``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, run, users_app
from gridaudit.console import console, err_console, example
from gridaudit.i18n import msg

units_app = typer.Typer(help="The unit tree used for unit scope (单位树).", no_args_is_help=True)
audit_app.add_typer(units_app, name="units")

UserArg = typer.Argument(..., help="User id / 用户编号")


@users_app.command("deactivate", epilog=example("gridaudit audit users deactivate zhang --user admin"))
def users_deactivate(user_id: str = UserArg, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Deactivate a user (admin only): they can no longer act, their history stays; not the last admin."""
    from gridaudit.audit.users import set_active

    run(store, lambda s, _st: set_active(s, user, user_id, False))
    console.print(msg(f"已停用用户 {user_id}", f"deactivated user {user_id}"))


@users_app.command("activate", epilog=example("gridaudit audit users activate zhang --user admin"))
def users_activate(user_id: str = UserArg, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Reactivate a deactivated user (admin only)."""
    from gridaudit.audit.users import set_active

    run(store, lambda s, _st: set_active(s, user, user_id, True))
    console.print(msg(f"已启用用户 {user_id}", f"activated user {user_id}"))


@users_app.command(
    "role",
    epilog=example("gridaudit audit users role zhang auditor --user admin", "gridaudit audit users role ma viewer"),
)
def users_role(
    user_id: str = UserArg,
    role: str = typer.Argument(
        ..., help="New role: auditor, audit_lead, inspector, manager, responsible, admin, viewer / 新角色"
    ),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Change a user's role (admin only; the last active admin cannot be demoted)."""
    from gridaudit.audit.users import set_role

    run(store, lambda s, _st: set_role(s, user, user_id, role))
    console.print(msg(f"用户 {user_id} 的角色改为 {role}", f"user {user_id} now has role {role}"))


@users_app.command(
    "unit",
    epilog=example(
        "gridaudit audit users unit zhang U0101 --user admin", "gridaudit audit users unit zhang --clear --user admin"
    ),
)
def users_unit(
    user_id: str = UserArg,
    unit: str = typer.Argument(None, help="Unit id (its tasks and those of the units under it) / 单位"),
    clear: bool = typer.Option(False, "--clear", help="Unbind the user from any unit / 解除单位绑定"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Bind a user to a unit (admin only): they then see and act on that unit's tasks and those below it."""
    from gridaudit.audit.units import has_units, unchecked_warning
    from gridaudit.audit.users import set_unit
    from gridaudit.console import die
    from gridaudit.i18n import both

    if (unit is None) == (not clear):
        die(both("请给出单位编号，或用 --clear 解除绑定（二者选一）", "give a unit id or --clear (one of them)"))
    known = run(store, lambda s, _st: (set_unit(s, user, user_id, unit), has_units(s))[1])
    if unit is None:
        console.print(msg(f"用户 {user_id} 已解除单位绑定", f"user {user_id} is no longer bound to a unit"))
        return
    console.print(msg(f"用户 {user_id} 绑定到单位 {unit}", f"user {user_id} is bound to unit {unit}"))
    if not known:
        err_console.print(f"[yellow]{msg(*unchecked_warning(unit))}[/]", highlight=False)


@units_app.command("sync", epilog=example("gridaudit audit units sync --dataset ds --user admin"))
def units_sync(
    dataset: Annotated[Path, typer.Option("--dataset", help="Dataset whose units table is copied / 数据集")],
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Copy the dataset's unit tree (units: unit_id, name, parent_id) into the case store (admin only)."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.units import read_dataset_units, sync_units
    from gridaudit.console import die

    try:
        rows = read_dataset_units(dataset)
    except AuditError as exc:
        die(exc.text())
    except Exception as exc:  # noqa: BLE001 - an unreadable dataset is a usage error
        from gridaudit.i18n import both

        die(both(f"无法读取数据集 {dataset}: {exc}", f"cannot read dataset {dataset}: {exc}"))

    def go(s: Any, _st: Any) -> Any:
        from gridaudit.audit.users import get_user

        return sync_units(s, get_user(s, user), rows, str(dataset))

    out = run(store, go)
    console.print(
        msg(
            f"单位树已同步：共 {out.total} 个单位，新增 {len(out.added)}，变更 {len(out.changed)}，"
            f"删除 {len(out.removed)}",
            f"unit tree synced: {out.total} units, {len(out.added)} added, {len(out.changed)} changed, "
            f"{len(out.removed)} removed",
        )
    )
    if out.orphaned_users:
        names = ", ".join(out.orphaned_users)
        err_console.print(
            "[yellow]"
            + msg(
                f"注意：用户 {names} 绑定的单位已不在单位树中（用 gridaudit audit users unit 重新绑定）",
                f"note: users {names} are bound to units no longer in the tree "
                "(rebind with gridaudit audit users unit)",
            )
            + "[/]",
            highlight=False,
        )


@units_app.command("list", epilog=example("gridaudit audit units list --user li"))
def units_list(store: str = StoreOpt, user: str = UserOpt) -> None:
    """List the store's unit tree (the units a user is bound to and those under them)."""
    from rich.table import Table

    from gridaudit.audit.units import SYNC_HINT, list_units

    rows = run(
        store,
        lambda s, _st: [(u.unit_id, u.name, u.parent_id or "", u.level or "") for u in list_units(s)],
        user=user,
        read=True,
    )
    if not rows:
        console.print(msg(f"案件库尚无单位树；{SYNC_HINT[0]}", f"the store has no unit tree; {SYNC_HINT[1]}"))
        return
    t = Table("unit 单位", "name 名称", "parent 上级", "level 层级")
    for r in rows:
        t.add_row(*r)
    console.print(t)
    console.print(msg(f"共 {len(rows)} 个单位", f"{len(rows)} units"))


def _read_password() -> str:
    """The new password: typed twice at a terminal, else the first line of standard input."""
    import sys

    from gridaudit.console import die
    from gridaudit.i18n import both

    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass(msg("新密码: ", "new password: "))
        if getpass.getpass(msg("再输入一次: ", "again: ")) != first:
            die(both("两次输入的密码不一致", "the two passwords differ"))
        return first
    line = sys.stdin.readline()
    return line[:-1] if line.endswith("\n") else line


@users_app.command(
    "passwd",
    epilog=example(
        "gridaudit audit users passwd li --user admin",
        "printf '%s\\n' 'a-long-secret' | gridaudit audit users passwd li --user admin",
    ),
)
def users_passwd(user_id: str = UserArg, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Set a user's web password, read from standard input (admin, or the user themselves; in the trail)."""
    from gridaudit.audit.credentials import set_password

    password = _read_password()
    run(store, lambda s, _st: set_password(s, user, user_id, password))
    console.print(msg(f"已设置用户 {user_id} 的密码", f"password of {user_id} set"))


@users_app.command("token", epilog=example("gridaudit audit users token li --user admin"))
def users_token(user_id: str = UserArg, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Print a new bearer token for the REST API (shown once; only its hash is stored; in the trail)."""
    from gridaudit.audit.credentials import issue_token

    token = run(store, lambda s, _st: issue_token(s, user, user_id))
    err_console.print(
        msg(
            f"用户 {user_id} 的 API 令牌（只显示这一次）：Authorization: Bearer <令牌>",
            f"API token of {user_id} (shown only now): Authorization: Bearer <token>",
        ),
        highlight=False,
    )
    typer.echo(token)
