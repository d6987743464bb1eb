"""The assessment method (考核办法) as data: one YAML file per utility, versioned by effective month.

A file holds ``utility`` and a list of ``versions``; the version in force for a month is the one with the
latest ``effective`` month not after it (a change mid-year applies from its effective month only). A version
lists ``entries``: for an indicator and one or more levels a ``weight`` (the points it is worth), a
``target`` and a ``scoring`` rule (see ``scoring``), and a ``missing`` rule saying how an entity without a
value is scored — ``{points: N}`` or ``exclude`` (its weight leaves the entity's possible total). There is
no default: a value that is missing is never silently zero. ``unit_levels`` maps the dataset's
``units.level`` values onto station / county / company.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridaudit.i18n import both
from gridaudit.indicators.catalog import LEVELS, UNIT_LEVELS, Indicator
from gridaudit.rules.loader import Text

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DEFAULT_UNIT_LEVELS = {
    "station": ["station", "供电所", "营业所"],
    "county": ["county", "县公司", "区公司", "县供电公司"],
    "company": ["company", "公司", "市公司", "地市公司"],
}


class MethodError(Exception):
    """A method file that cannot be used, naming the file and the field."""


class Step(BaseModel):
    """One step of a ``steps`` rule: values in ``[min, max)`` earn ``points`` (an open bound is null)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float | None = None
    max: float | None = None
    points: float


class Scoring(BaseModel):
    """How points are earned or lost for a value (``scoring.score_value`` applies it).

    * ``target``: full weight when the value meets the target (by the indicator's direction), else ``fail_points``;
    * ``linear``: 0 points at ``zero_at``, the full weight at ``full_at``, straight line between, clamped;
    * ``steps``: the first step whose ``[min, max)`` holds the value;
    * ``deduction``: the weight minus ``points_per`` for every ``per`` units of the value (a case count:
      per 1), the deduction capped at ``cap``.
    ``max_points`` / ``min_points`` clamp the result of every kind (default: weight and 0).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["target", "linear", "steps", "deduction"]
    zero_at: float | None = None
    full_at: float | None = None
    steps: list[Step] = Field(default_factory=list)
    per: float = 1.0
    points_per: float | None = None
    cap: float | None = None
    fail_points: float = 0.0
    max_points: float | None = None
    min_points: float | None = None

    @model_validator(mode="after")
    def _fields(self) -> Scoring:
        if self.kind == "linear" and (self.zero_at is None or self.full_at is None or self.zero_at == self.full_at):
            raise ValueError("linear scoring needs zero_at and full_at, different from each other")
        if self.kind == "steps" and not self.steps:
            raise ValueError("steps scoring needs a list of steps")
        if self.kind == "deduction" and (self.points_per is None or self.per <= 0):
            raise ValueError("deduction scoring needs points_per (and per > 0)")
        return self


class Missing(BaseModel):
    """How an entity without a value is scored: ``points`` it gets (``exclude`` is the other choice)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    points: float


class Entry(BaseModel):
    """One line of the method: an indicator at some levels, its weight, target and rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    indicator: str
    levels: list[str] = Field(min_length=1)
    weight: float = Field(gt=0)
    target: float | None = None
    scoring: Scoring
    missing: Missing | Literal["exclude"]

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in LEVELS]
        if bad:
            raise ValueError(f"levels {bad} are not among {', '.join(LEVELS)}")
        return v

    @model_validator(mode="after")
    def _target(self) -> Entry:
        if self.scoring.kind == "target" and self.target is None:
            raise ValueError("target scoring needs a target")
        return self


class Version(BaseModel):
    """The method as in force from ``effective`` (YYYY-MM) until the next version."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    effective: str
    title: Text
    entries: list[Entry] = Field(min_length=1)

    @field_validator("effective")
    @classmethod
    def _month(cls, v: str) -> str:
        if not MONTH.match(str(v)):
            raise ValueError(f"effective must be YYYY-MM, not {v!r}")
        return str(v)


class Method(BaseModel):
    """A utility's assessment method file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    utility: str
    unit_levels: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_UNIT_LEVELS))
    versions: list[Version] = Field(min_length=1)

    @field_validator("unit_levels")
    @classmethod
    def _unit_levels(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [k for k in v if k not in UNIT_LEVELS]
        if bad:
            raise ValueError(f"unit_levels keys {bad} are not among {', '.join(UNIT_LEVELS)}")
        return v

    @model_validator(mode="after")
    def _versions(self) -> Method:
        months = [v.effective for v in self.versions]
        if len(set(months)) != len(months):
            raise ValueError("two versions have the same effective month")
        return self

    def in_force(self, month: str) -> Version | None:
        """The version in force for ``month`` (None before the first one)."""
        chosen = [v for v in self.versions if v.effective <= month]
        return max(chosen, key=lambda v: v.effective) if chosen else None

    def level_of(self, raw: str | None) -> str | None:
        """The assessment level (station / county / company) of a ``units.level`` value, or None."""
        for level, names in self.unit_levels.items():
            if raw is not None and str(raw).strip().lower() in {n.lower() for n in names}:
                return level
        return None


def builtin_method() -> Path:
    """The default method file shipped with gridaudit."""
    return Path(str(resources.files("gridaudit.indicators").joinpath("methods/default.yaml")))


def load_method(path: str | Path | None, catalog: list[Indicator]) -> tuple[Method, str]:
    """Load and check a method file (default: the built-in one); returns it with its SHA-256.

    Every entry must name a catalogue indicator at levels that indicator has, and an (indicator, level)
    appears at most once per version."""
    path = Path(path) if path is not None else builtin_method()
    try:
        data = path.read_bytes()
        raw = yaml.safe_load(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MethodError(both(f"{path}: 无法读取考核办法：{exc}", f"{path}: cannot read the method: {exc}")) from None
    try:
        method = Method.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise MethodError(both(f"{path}: 考核办法有误：{problems}", f"{path}: bad method: {problems}")) from None
    known = {i.id: i for i in catalog}
    for v in method.versions:
        seen: set[tuple[str, str]] = set()
        for n, e in enumerate(v.entries, 1):
            where = f"{path}: versions[{v.effective}].entries[{n}]"
            ind = known.get(e.indicator)
            if ind is None:
                raise MethodError(both(f"{where}: 未知指标 {e.indicator}", f"{where}: unknown indicator {e.indicator}"))
            for level in e.levels:
                if level not in ind.levels:
                    raise MethodError(
                        both(
                            f"{where}: 指标 {e.indicator} 不适用于层级 {level}",
                            f"{where}: indicator {e.indicator} has no level {level} ({', '.join(ind.levels)})",
                        )
                    )
                if (e.indicator, level) in seen:
                    raise MethodError(
                        both(
                            f"{where}: {e.indicator} 在层级 {level} 重复",
                            f"{where}: {e.indicator} at level {level} appears twice",
                        )
                    )
                seen.add((e.indicator, level))
    return method, hashlib.sha256(data).hexdigest()
