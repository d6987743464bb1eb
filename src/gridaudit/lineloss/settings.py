"""Line-loss settings: loss-rate bands per level and unit, trend, ranking and technical-loss parameters.

Defaults follow DOMAIN.md §3. A utility overrides them in a YAML or TOML file::

    bands:
      default: {negative_below: 0, watch_from: 7, high_from: 10, extreme_from: 30, min_coverage: 0.95}
      levels:
        area: {high_from: 12}          # some provinces: 12 % for areas
        feeder: {high_from: 10}
      units:
        U02: {area: {high_from: 15}}   # a unit with long rural lines
    trends: {rise_points: 3, high_months: 3}
    behind: {top_customers: 5, min_score: 0.35}
    mapping: {beta_min: 0.6, beta_max: 1.6, min_partial_corr: 0.5}
    technical: {power_factor: 0.9, load_shape_factor: 1.15}
    days: {min_day_coverage: 0.95, min_days_share: 0.8, min_days: 7}

Rates are computed over the *computable days* (可算日) only: a day counts when the entity's supply meters all
reported, every area meter on its sales side did (a feeder's areas) and at least ``days.min_day_coverage`` of its
expected sales meters did. A month or window stays ``not_computable`` when fewer than
``max(min(days.min_days, its days), ceil(days.min_days_share × its days))`` of its days are computable.

Rates in the ``bands`` section are percent points; ``min_coverage`` is a share (0–1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridaudit.i18n import both
from gridaudit.settings_file import SettingsError, read_settings_file, settings_from_mapping

LEVELS = ("area", "feeder", "voltage", "unit")
BANDS = ("negative", "normal", "watch", "high", "extreme", "not_computable")


@dataclass(frozen=True)
class Bands:
    """Loss-rate bands for one level of one unit (percent points; coverage as a share)."""

    negative_below: float = 0.0
    watch_from: float = 7.0
    high_from: float = 10.0
    extreme_from: float = 30.0
    min_coverage: float = 0.95

    def band(self, rate_pct: float | None, coverage: float | None, supply_ok: bool = True) -> str:
        """The band of one loss rate over computable days (balance.py's SQL applies the same rule set-based,
        after :meth:`CompleteDays.required` decides whether enough days are computable)."""
        if rate_pct is None or not supply_ok or coverage is None or coverage < self.min_coverage:
            return "not_computable"
        if rate_pct < self.negative_below:
            return "negative"
        if rate_pct > self.extreme_from:
            return "extreme"
        if rate_pct > self.high_from:
            return "high"
        if rate_pct > self.watch_from:
            return "watch"
        return "normal"


@dataclass(frozen=True)
class Trends:
    """Trend findings: month-on-month rise (points) and months in a row at high or extreme."""

    rise_points: float = 3.0
    high_months: int = 3


@dataclass(frozen=True)
class Behind:
    """Ranking of customers behind a high or negative area's loss."""

    top_customers: int = 5
    min_score: float = 0.35
    min_days: int = 14
    weight_corr: float = 0.5
    weight_drop: float = 0.3
    weight_events: float = 0.2
    events_for_full_score: int = 3
    event_types: tuple[str, ...] = (
        "voltage_loss",
        "phase_break",
        "current_loss",
        "reverse_power",
        "cover_open",
        "terminal_cover_open",
        "magnetic",
        "meter_stopped",
        "meter_cleared",
        "parameter_changed",
    )


@dataclass(frozen=True)
class Mapping:
    """Customer–area mapping-error test: partial regression of a candidate area's loss on the customer's use."""

    beta_min: float = 0.6
    beta_max: float = 1.6
    own_beta_max: float = -0.3
    min_partial_corr: float = 0.3
    min_t: float = 4.0
    min_pair_t: float = 10.0  # t on the likely area minus t on the recorded area (which is negative)
    min_loss_cover: float = 0.8
    high_pass_days: int = 15
    min_days: int = 14
    min_share_of_loss: float = 0.02
    rounds: int = 3  # passes: after each, the areas' loss is corrected for the errors found (1 = no peeling)
    fill_gaps: bool = True  # fill the sales a recorded customer's AMI gap leaves out (mapping.py)
    # ... with its mean use over this many days around the gap (0 = over the whole window; BENCHMARKS.md issue 17,
    # branch mapping: 15 found no more errors on synth, so it is off)
    gap_fill_days: int = 0
    theft_regressors: int = 0  # per area, up to this many of its own customers whose use raises its loss ...
    theft_min_t: float = 4.0  # ... at this t or more are controlled for (its own theft; off: found none more)


@dataclass(frozen=True)
class Technical:
    """Technical-loss model parameters (DL/T 686 shape-factor method); see docs/lineloss.md."""

    power_factor: float = 0.9
    load_shape_factor: float = 1.15
    lv_voltage_kv: float = 0.4
    line_r_eq_ohm: float | None = None
    line_r_column: str = "line_r_eq_ohm"
    area_voltage_kv: float = 0.4


@dataclass(frozen=True)
class CompleteDays:
    """Which days a month's or window's loss rate is computed over (同期线损 on 可算日).

    A day is computable when every expected supply meter reported, every area meter on the sales side reported
    (a feeder's and its voltage level's: a silent area meter is not excused by the coverage share) and at least
    ``min_day_coverage`` of the expected sales meters (meter-days reporting ÷ expected) did; the rate of a
    month or window is the loss over its computable days ÷ their supply. It stays ``not_computable`` with fewer
    computable days than ``required(days)``.
    """

    min_day_coverage: float = 0.95
    min_days_share: float = 0.8
    min_days: int = 7

    def required(self, days: int) -> int:
        """Computable days a month or window of ``days`` days needs (the SQL in balance.py uses the same rule)."""
        return max(1, min(self.min_days, days), math.ceil(self.min_days_share * days - 1e-9))


@dataclass(frozen=True)
class LossSettings:
    """All line-loss settings."""

    default: Bands = field(default_factory=Bands)
    levels: dict[str, Bands] = field(default_factory=dict)
    units: dict[str, dict[str, Bands]] = field(default_factory=dict)
    trends: Trends = field(default_factory=Trends)
    behind: Behind = field(default_factory=Behind)
    mapping: Mapping = field(default_factory=Mapping)
    technical: Technical = field(default_factory=Technical)
    days: CompleteDays = field(default_factory=CompleteDays)

    def bands_for(self, unit_id: str | None, level: str) -> Bands:
        """Bands in force for ``level`` in ``unit_id``: unit override, else level default, else default."""
        if unit_id is not None and level in self.units.get(unit_id, {}):
            return self.units[unit_id][level]
        return self.levels.get(level, self.default)


def _check_bands(b: Bands, where: str) -> Bands:
    if not (b.negative_below <= b.watch_from <= b.high_from <= b.extreme_from):
        raise SettingsError(
            both(
                f"{where}: 需满足 negative_below ≤ watch_from ≤ high_from ≤ extreme_from",
                f"{where}: need negative_below ≤ watch_from ≤ high_from ≤ extreme_from",
            )
        )
    if not 0 <= b.min_coverage <= 1:
        raise SettingsError(both(f"{where}.min_coverage 应在 0–1 之间", f"{where}.min_coverage must be within 0–1"))
    return b


def settings_from_dict(data: dict[str, Any], source: str = "settings") -> LossSettings:
    """Build settings from a parsed YAML/TOML document (unknown keys are errors, naming ``source`` and key;
    each section is read by :func:`gridaudit.settings_file.settings_from_mapping`)."""
    data = data or {}
    top = {"bands", "trends", "behind", "mapping", "technical", "days"}
    unknown = sorted(set(data) - top)
    if unknown:
        raise SettingsError(both(f"{source}: 未知设置 {', '.join(unknown)}", f"{source}: unknown section(s) {unknown}"))
    bands = data.get("bands") or {}
    bunknown = sorted(set(bands) - {"default", "levels", "units"})
    if bunknown:
        raise SettingsError(
            both(f"{source}: bands 下未知键 {bunknown}", f"{source}: unknown key(s) in bands {bunknown}")
        )
    default = _check_bands(
        settings_from_mapping(Bands, bands.get("default", {}), f"{source}: bands.default"), f"{source}: bands.default"
    )
    levels: dict[str, Bands] = {}
    for level, vals in (bands.get("levels") or {}).items():
        if level not in LEVELS:
            raise SettingsError(
                both(f"{source}: 未知层级 {level}", f"{source}: unknown level {level!r} (use {LEVELS})")
            )
        where = f"{source}: bands.levels.{level}"
        levels[level] = _check_bands(settings_from_mapping(Bands, vals, where, default), where)
    units: dict[str, dict[str, Bands]] = {}
    for unit, per in (bands.get("units") or {}).items():
        units[str(unit)] = {}
        for level, vals in (per or {}).items():
            if level not in LEVELS:
                raise SettingsError(
                    both(f"{source}: 单位 {unit} 未知层级 {level}", f"{source}: unit {unit}: unknown level {level!r}")
                )
            where = f"{source}: bands.units.{unit}.{level}"
            base = levels.get(level, default)
            units[str(unit)][level] = _check_bands(settings_from_mapping(Bands, vals, where, base), where)
    return LossSettings(
        default=default,
        levels=levels,
        units=units,
        trends=settings_from_mapping(Trends, data.get("trends", {}), f"{source}: trends"),
        behind=settings_from_mapping(Behind, data.get("behind", {}), f"{source}: behind"),
        mapping=settings_from_mapping(Mapping, data.get("mapping", {}), f"{source}: mapping"),
        technical=settings_from_mapping(Technical, data.get("technical", {}), f"{source}: technical"),
        days=_check_days(settings_from_mapping(CompleteDays, data.get("days", {}), f"{source}: days"), source),
    )


def _check_days(d: CompleteDays, source: str) -> CompleteDays:
    for name in ("min_day_coverage", "min_days_share"):
        if not 0 <= getattr(d, name) <= 1:
            raise SettingsError(
                both(f"{source}: days.{name} 应在 0–1 之间", f"{source}: days.{name} must be within 0–1")
            )
    if d.min_days < 0:
        raise SettingsError(both(f"{source}: days.min_days 不能为负", f"{source}: days.min_days must not be negative"))
    return d


def load_settings(path: str | Path | None) -> LossSettings:
    """Read settings from a ``.yaml``/``.yml`` or ``.toml`` file; ``None`` gives the DOMAIN.md defaults."""
    if path is None:
        return LossSettings()
    return settings_from_dict(read_settings_file(path), str(path))
