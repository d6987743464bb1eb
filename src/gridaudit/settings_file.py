"""Settings are documented data: frozen dataclasses whose fields are the settings, read from YAML/TOML.

The one loader every part uses (line loss, risk, synth rates): :func:`read_settings_file` parses a file,
:func:`settings_from_mapping` turns a mapping into a settings dataclass. An unknown key is an error naming
the file and the key and listing the known ones (datasette-style: a typo never silently keeps a default);
a value is coerced to the type of the field's default, or refused naming the key and the value.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import yaml

from gridaudit.i18n import both

T = TypeVar("T")


class SettingsError(ValueError):
    """A settings file or value that cannot be used (names the file, the key and the value)."""


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """A ``.toml`` file, else YAML, parsed into a mapping (an empty file gives ``{}``)."""
    path = Path(path)
    if not path.is_file():
        raise SettingsError(both(f"设置文件不存在: {path}", f"settings file not found: {path}"))
    try:
        text = path.read_text("utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except UnicodeDecodeError as exc:
        raise SettingsError(both(f"{path}: 不是 UTF-8 文本", f"{path}: not UTF-8 text")) from exc
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(both(f"{path}: 无法解析: {exc}", f"{path}: cannot parse: {exc}")) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(both(f"{path}: 应为键值表", f"{path}: expected a mapping"))
    return data


def setting_names(cls: type) -> list[str]:
    """The settings (field names) of a settings dataclass, in declaration order."""
    return [f.name for f in dataclasses.fields(cls)]


def settings_from_mapping(
    cls: type[T], values: Any, where: str, base: T | None = None, noun: tuple[str, str] = ("设置", "setting(s)")
) -> T:
    """``base`` (default: ``cls()``) with the settings in ``values`` replaced; ``where`` names the source.

    Unknown keys and values that do not fit the default's type are :class:`SettingsError`; ``noun`` (zh, en)
    is what the error calls an unknown key."""
    if not isinstance(values, dict):
        raise SettingsError(both(f"{where}: 应为键值表", f"{where}: expected a mapping"))
    known = setting_names(cls)
    unknown = sorted(str(k) for k in set(values) - set(known))
    if unknown:
        raise SettingsError(
            both(
                f"{where}: 未知{noun[0]} {', '.join(unknown)}（可用: {', '.join(known)}）",
                f"{where}: unknown {noun[1]} {', '.join(unknown)} (known: {', '.join(known)})",
            )
        )
    out: Any = base if base is not None else cls()
    changes = {}
    for key, val in values.items():
        try:
            changes[key] = _coerce(getattr(out, key), val)
        except (TypeError, ValueError) as exc:
            raise SettingsError(
                both(f"{where}.{key}: 数值无效 {val!r}", f"{where}.{key}: invalid value {val!r}")
            ) from exc
    return dataclasses.replace(out, **changes)


def _coerce(default: Any, val: Any) -> Any:
    """``val`` as the type of ``default`` (lists become tuples where the default is a tuple)."""
    if isinstance(default, bool):
        if not isinstance(val, bool):
            raise ValueError("not true/false")
        return val
    if isinstance(default, int):
        if isinstance(val, bool) or (isinstance(val, float) and not val.is_integer()):
            raise ValueError("not a whole number")
        return int(val)
    if isinstance(default, float) or (default is None and val is not None and not isinstance(val, str)):
        if isinstance(val, bool):
            raise ValueError("not a number")
        return float(val)
    if isinstance(default, str):
        if not isinstance(val, str | int | float) or isinstance(val, bool):
            raise ValueError("not text")
        return str(val)
    if isinstance(default, tuple):
        if not isinstance(val, list | tuple):
            raise ValueError("not a list")
        if default and all(isinstance(v, str) for v in default):
            return tuple(str(v) for v in val)
        return tuple(tuple(v) if isinstance(v, list) else v for v in val)
    if isinstance(default, dict):
        if not isinstance(val, dict):
            raise ValueError("not a mapping")
        return dict(val)
    return val
