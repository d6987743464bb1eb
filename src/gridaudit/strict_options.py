"""No command-line option may be given twice and silently keep only its last value.

Click (inside typer) lets a single-valued option repeat and keeps the last value, so
``--findings a --findings b`` would read only ``b``. :class:`StrictGroup` is the root command's class: it
checks its own options and wraps every sub-group and command it resolves, so each parse refuses a
repeated single-valued option (exit 2, naming the option). Options declared as lists (``multiple``) repeat
as documented. Before that check, old option spellings (``gridaudit.cli_options.DEPRECATED``) are rewritten
to the new ones with a warning, so an old and a new spelling together count as one option given twice.
"""

from __future__ import annotations

import types
from typing import Any

from typer.core import TyperGroup

from gridaudit.i18n import both


def repeated_options(command: Any, ctx: Any, args: list[str]) -> list[str]:
    """Names of single-valued options that ``args`` gives more than once (empty when the args don't parse)."""
    try:
        parser = command.make_parser(ctx)
        _, _, order = parser.parse_args(args=list(args))
    except Exception:  # noqa: BLE001 - a malformed command line is reported by the real parse
        return []
    seen: dict[str, int] = {}
    for param in order:
        if getattr(param, "param_type_name", "") != "option" or getattr(param, "multiple", False):
            continue
        if getattr(param, "count", False):
            continue
        seen[param.name] = seen.get(param.name, 0) + 1
    names = {p.name: max(p.opts, key=len) for p in command.get_params(ctx) if p.name in seen}
    return [names[n] for n, k in seen.items() if k > 1]


def _check(command: Any, ctx: Any, args: list[str]) -> None:
    if ctx.resilient_parsing:
        return
    twice = repeated_options(command, ctx, args)
    if twice:
        opts = ", ".join(twice)
        ctx.fail(  # a usage error: exit 2, no traceback
            both(
                f"选项 {opts} 只能给出一次（重复给出会只用最后一个值）",
                f"option {opts} may be given only once (a repeat would silently keep only the last value)",
            )
        )


def command_path(ctx: Any) -> tuple[str, ...]:
    """The sub-command names from the root to ``ctx``'s command, e.g. ``("audit", "export")``."""
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return tuple(reversed(names))


def _undeprecate(ctx: Any, args: list[str]) -> list[str]:
    """Old option spellings (gridaudit.cli_options.DEPRECATED) rewritten to the new ones, with a warning."""
    from gridaudit.cli_options import deprecation_text, rewrite_deprecated

    new, used = rewrite_deprecated(command_path(ctx), args)
    if used and not ctx.resilient_parsing:
        from gridaudit.console import err_console

        for old, now in dict(used).items():
            err_console.print(f"[yellow]warning[/]: {deprecation_text(old, now)}", highlight=False)
    return new


def _strict_parse(self: Any, ctx: Any, args: list[str]) -> list[str]:
    args = _undeprecate(ctx, args)
    _check(self, ctx, args)
    return type(self).parse_args(self, ctx, args)


def _strict_get_command(self: Any, ctx: Any, name: str) -> Any:
    return make_strict(type(self).get_command(self, ctx, name))


def make_strict(command: Any) -> Any:
    """Make ``command`` (and, for a group, every command it resolves) refuse repeated single-valued options."""
    if command is None or getattr(command, "_gridaudit_strict", False):
        return command
    command.parse_args = types.MethodType(_strict_parse, command)
    if hasattr(command, "commands"):
        command.get_command = types.MethodType(_strict_get_command, command)
    command._gridaudit_strict = True
    return command


class StrictGroup(TyperGroup):
    """The root group: refuses repeated single-valued options here and in every sub-command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Parse as usual after refusing repeated single-valued options."""
        _check(self, ctx, args)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The sub-command, made strict."""
        return make_strict(super().get_command(ctx, cmd_name))
