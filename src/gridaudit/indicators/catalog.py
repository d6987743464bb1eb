"""Load indicator files: one YAML file per indicator (``catalog/<id>.yaml``), validated with pydantic.

An indicator's ``sql`` (DuckDB dialect, the portable subset of DESIGN §4) returns one row per *item* behind
the indicator (an area, a reader's reads in a unit, a task …) with the columns ``item_id``, ``unit_id``,
``person_id``, ``num`` and ``den``. The assessment sums ``num`` and ``den`` per entity (a person by
``person_id``; a unit over the units under it) and the value is ``num / den × scale`` (``aggregate: ratio``)
or ``num`` (``aggregate: sum``); an entity with no item or ``den = 0`` has no value (scored by the method's
explicit ``missing`` rule, never as zero). Parameters bound: ``$month`` (YYYY-MM), ``$month_start`` and
``$next_start`` (dates, the month is ``[month_start, next_start)``), and the indicator's own ``params``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gridaudit.contract import load_contract
from gridaudit.i18n import both
from gridaudit.rules.loader import Text
from gridaudit.rules.safety import UnsafeSQL, check_rule_sql, param_names

PERSON_LEVELS = ("staff", "area_manager")
UNIT_LEVELS = ("station", "county", "company")
LEVELS = PERSON_LEVELS + UNIT_LEVELS
LEVEL_TEXT = {
    "staff": Text(zh="员工", en="staff"),
    "area_manager": Text(zh="台区经理", en="area manager"),
    "station": Text(zh="供电所", en="supply station"),
    "county": Text(zh="县公司", en="county"),
    "company": Text(zh="公司", en="company"),
}
# derived inputs an indicator may read besides contract tables (built once per run, see ``inputs``)
INPUTS = {
    "lineloss_monthly": "the line-loss balance of the month (gridaudit.lineloss.balance), every level",
    "audit_tasks_month": "the case store's tasks whose finding is of the month, with outcome and money",
    "ami_days_month": "per meter, the days of the month with daily_usage (one scan shared by the AMI indicators)",
    "work_order_step_days": "working days each time-limited connection step took (the rule catalog's derived table)",
}
OUTPUT_COLUMNS = ("item_id", "unit_id", "person_id", "num", "den")
BOUND_PARAMS = ("month", "month_start", "next_start")
UNITS = ("pct", "per_mille", "count", "yuan", "kwh")
UNIT_TEXT = {
    "pct": Text(zh="%", en="%"),
    "per_mille": Text(zh="‰", en="‰"),
    "count": Text(zh="个", en="count"),
    "yuan": Text(zh="元", en="yuan"),
    "kwh": Text(zh="千瓦时", en="kWh"),
}


class IndicatorError(Exception):
    """An indicator file that cannot be loaded, naming the file and the field."""


class Indicator(BaseModel):
    """One indicator of the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    definition: Text
    unit: Literal["pct", "per_mille", "count", "yuan", "kwh"]
    levels: list[str] = Field(min_length=1)
    direction: Literal["higher_better", "lower_better"]
    aggregate: Literal["ratio", "sum"]
    scale: float = 1.0
    tables: list[str] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)  # staff level: the staff.role values assessed on it
    params: dict[str, float | int | str] = Field(default_factory=dict)
    source: Text  # where the numbers come from, in words (docs/indicators.md)
    sql: str

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in LEVELS]
        if bad:
            raise ValueError(f"levels {bad} are not among {', '.join(LEVELS)}")
        if sum(x in PERSON_LEVELS for x in v) > 1:
            raise ValueError("an indicator has at most one person level (staff or area_manager)")
        return v

    @field_validator("tables")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        known = load_contract().tables
        bad = [t for t in v if t not in known]
        if bad:
            raise ValueError(f"tables {bad} are not contract tables")
        return v

    @field_validator("inputs")
    @classmethod
    def _inputs(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if t not in INPUTS]
        if bad:
            raise ValueError(f"inputs {bad} are not among {', '.join(INPUTS)}")
        return v

    @model_validator(mode="after")
    def _sql(self) -> Indicator:
        if not self.tables and not self.inputs:
            raise ValueError("an indicator reads at least one table or input")
        try:
            tree = check_rule_sql(self.sql, set(self.tables) | set(self.inputs))
        except UnsafeSQL as exc:
            raise ValueError(f"sql: {exc}") from None
        names = [s.alias_or_name for s in tree.selects]
        if tuple(names) != OUTPUT_COLUMNS:
            raise ValueError(f"sql must select exactly {', '.join(OUTPUT_COLUMNS)} in that order (got {names})")
        unknown = param_names(tree) - set(BOUND_PARAMS) - set(self.params)
        if unknown:
            raise ValueError(f"sql uses undeclared parameters {sorted(unknown)}")
        if self.aggregate == "sum" and self.scale != 1.0:
            raise ValueError("scale applies to ratios only")
        return self

    @property
    def person_level(self) -> str | None:
        """The person level the indicator applies to (staff / area_manager), if any."""
        return next((x for x in self.levels if x in PERSON_LEVELS), None)


def builtin_catalog() -> Path:
    """The folder of the indicator catalogue shipped with gridaudit."""
    return Path(str(resources.files("gridaudit.indicators").joinpath("catalog")))


def load_indicator(path: str | Path) -> Indicator:
    """Load one indicator file; its id must equal the file stem."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndicatorError(
            both(f"{path}: 无法读取指标文件：{exc}", f"{path}: cannot read indicator: {exc}")
        ) from None
    try:
        ind = Indicator.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise IndicatorError(both(f"{path}: 指标定义有误：{problems}", f"{path}: bad indicator: {problems}")) from None
    if ind.id != path.stem:
        raise IndicatorError(
            both(f"{path}: id {ind.id} 与文件名不一致", f"{path}: id {ind.id} must equal the file stem")
        )
    return ind


def load_catalog(folder: str | Path | None = None) -> list[Indicator]:
    """Every indicator of ``folder`` (default: the built-in catalogue), sorted by id."""
    folder = Path(folder) if folder is not None else builtin_catalog()
    if not folder.is_dir():
        raise IndicatorError(both(f"指标目录不存在：{folder}", f"indicator folder not found: {folder}"))
    return [load_indicator(p) for p in sorted(folder.glob("*.yaml")) if re.match(r"^[a-z]", p.name)]
