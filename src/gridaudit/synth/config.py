"""Parameters of the synthetic utility: sizes, the realism model and the injection rates.

Every rate and every shape parameter is a field here (never a literal buried in a generator),
so a utility can make the synthetic company look like its own and a test can turn a kind off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.i18n import both
from gridaudit.settings_file import read_settings_file, settings_from_mapping

# The truth kinds (briefs/truth_kinds.md) in the order truth.csv documents them.
TRUTH_KINDS: tuple[str, ...] = (
    "theft_bypass",
    "theft_intermittent",
    "theft_ct_short",
    "theft_cover_open",
    "theft_reverse",
    "theft_stopped_meter",
    "contract_tariff_misuse",
    "contract_capacity_overuse",
    "contract_suspended_use",
    "contract_no_bill",
    "staff_estimated_read",
    "staff_missed_read",
    "staff_wrong_read",
    "staff_virtual_qty",
    "staff_withheld_qty",
    "staff_wrong_multiplier",
    "staff_wrong_tariff",
    "staff_unapproved_adjustment",
    "staff_unposted_payment",
    "process_overdue_step",
    "process_out_of_order",
    "seal_no_order",
    "meter_verification_overdue",
    "staff_replaced_no_final_read",
    "data_mapping_error",
)


@dataclass(frozen=True)
class Rates:
    """Injection rate of every truth kind (0 turns a kind off).

    Units: customer kinds per customer; meter-period kinds (estimated/missed/wrong read) per meter and
    billing period; bill kinds per bill; staff_unposted_payment per payment; process kinds per work order;
    seal_no_order, meter_verification_overdue and staff_wrong_multiplier per customer meter;
    staff_replaced_no_final_read per meter replacement.
    Each kind with a rate > 0 is injected at least once per run (so small runs still cover every kind).
    """

    theft_bypass: float = 0.006
    theft_intermittent: float = 0.003
    theft_ct_short: float = 0.0015
    theft_cover_open: float = 0.002
    theft_reverse: float = 0.001
    theft_stopped_meter: float = 0.001
    contract_tariff_misuse: float = 0.004
    contract_capacity_overuse: float = 0.002
    contract_suspended_use: float = 0.001
    contract_no_bill: float = 0.0005
    staff_estimated_read: float = 0.003
    staff_missed_read: float = 0.002
    staff_wrong_read: float = 0.001
    staff_virtual_qty: float = 0.001
    staff_withheld_qty: float = 0.001
    staff_wrong_multiplier: float = 0.0008
    staff_wrong_tariff: float = 0.0005
    staff_unapproved_adjustment: float = 0.0005
    staff_unposted_payment: float = 0.001
    process_overdue_step: float = 0.06
    process_out_of_order: float = 0.03
    seal_no_order: float = 0.002
    meter_verification_overdue: float = 0.003
    staff_replaced_no_final_read: float = 0.05
    data_mapping_error: float = 0.002


@dataclass(frozen=True)
class Model:
    """The clean utility: mix, levels, seasons, AMI coverage, losses, staff behaviour, process times."""

    # customer mix among customers hanging on areas; large industrial customers sit on feeders directly
    large_industrial_share: float = 0.005
    mix_residential: float = 0.855
    mix_commercial: float = 0.09
    mix_industrial: float = 0.025
    mix_agricultural: float = 0.03
    tou_share_commercial: float = 0.3  # commercial customers who chose time-of-use
    tou_min_kva_industrial: float = 100.0  # industrial customers from this capacity are on time-of-use
    # areas and feeders
    area_size_min: int = 50
    area_size_max: int = 400
    area_size_median: float = 140.0
    areas_per_feeder_min: int = 12
    areas_per_feeder_max: int = 35
    customers_per_station: int = 12000
    stations_per_county: int = 6
    theft_hotspot_area_share: float = 0.15
    theft_hotspot_weight: float = 30.0
    thief_level_min: float = 2.0
    thief_level_max: float = 4.0
    # mis-mapped customers (户变关系错误) are drawn with weight level ** this power: 1 = in proportion to
    # energy (the errors that move enough energy to show in an area's balance), 0 = every customer alike
    mapping_error_energy_power: float = 1.0
    area_loss_min: float = 0.02
    area_loss_max: float = 0.06
    feeder_loss_min: float = 0.01
    feeder_loss_max: float = 0.04
    # residential daily kWh: lognormal level; noise calibrated against LCL (docs/synth.md)
    residential_median_kwh: float = 6.0
    residential_level_sigma: float = 0.6
    noise_sigma_median: float = 0.27
    noise_sigma_spread: float = 0.45
    noise_ar1: float = 0.55
    weather_sigma: float = 2.0
    cooling_max: float = 1.0
    heating_max: float = 0.6
    weekend_residential: float = 1.08
    spring_festival_residential: float = 0.85
    spring_festival_commercial: float = 0.55
    spring_festival_industrial: float = 0.3
    vacant_share: float = 0.03
    vacancy_spell_share: float = 0.08
    move_rate_per_year: float = 0.04
    # lifecycle (legitimate)
    new_connection_share: float = 0.03
    suspended_share: float = 0.008
    closed_share: float = 0.008
    # AMI: poorly covered (not yet upgraded) areas, plus gap spells on covered meters
    ami_poor_area_share: float = 0.03
    ami_poor_area_coverage: float = 0.4
    ami_gap_spells_per_year: float = 1.2
    ami_gap_mean_days: float = 2.5
    supply_gap_spells_per_year: float = 0.15
    ami_read_share: float = 0.97
    legit_estimated_share: float = 0.03
    interval_days: int = 7
    # billing and collection
    unpaid_share: float = 0.015
    legit_adjustment_rate: float = 0.002
    estimating_reader_share: float = 0.1
    bad_clerk_share: float = 0.15
    # work orders, seals, events, inspections
    fault_repair_rate_per_year: float = 0.02
    complaint_rate_per_year: float = 0.01
    capacity_change_rate_per_year: float = 0.01
    tariff_change_rate_per_year: float = 0.005
    event_rate_per_year: float = 0.6
    outages_per_area_year: float = 2.0
    random_inspection_rate_per_year: float = 0.02
    targeted_inspection_share: float = 0.4
    inspection_miss_share: float = 0.1
    verification_years: int = 8
    # meter replacements (换表: rotation ahead of verification, faults); some come with another CT ratio
    meter_replacement_rate_per_year: float = 0.04
    replacement_ct_change_share: float = 0.2
    # workday limits of business steps (DOMAIN §3, SG186 defaults)
    limit_plan_single: int = 15
    limit_plan_dual: int = 30
    limit_design: int = 10
    limit_mid: int = 5
    limit_completion: int = 5
    limit_energize: int = 5


@dataclass(frozen=True)
class SynthConfig:
    """One synthetic run: size, time span, seed, output format and the two parameter sets."""

    customers: int = 20000
    months: int = 12
    start: str = "2024-01"
    seed: int = 42
    fmt: str = "parquet"
    chunk_customers: int = 20000
    rates: Rates = field(default_factory=Rates)
    model: Model = field(default_factory=Model)

    @property
    def start_date(self) -> date:
        """First day of the first billing month."""
        y, m = (int(x) for x in self.start.split("-"))
        return date(y, m, 1)

    def validate(self) -> None:
        """Refuse sizes or dates the generator cannot honour (ValueError in both languages)."""
        if self.customers < 200:
            raise ValueError(both("客户数至少 200", "--customers must be at least 200"))
        if not 1 <= self.months <= 60:
            raise ValueError(both("月数须在 1 到 60 之间", "--months must be between 1 and 60"))
        if self.fmt not in ("csv", "parquet"):
            raise ValueError(both(f"未知格式 {self.fmt}", f"unknown format {self.fmt}: use csv or parquet"))
        try:
            first = self.start_date
        except ValueError:
            raise ValueError(
                both(f"起始月份格式应为 YYYY-MM：{self.start}", f"--start must be YYYY-MM: {self.start}")
            ) from None
        y, m = divmod(first.year * 12 + first.month - 1 + self.months, 12)
        if date(y, m + 1, 1) > date.today():
            raise ValueError(
                both(
                    "数据截止日期在未来（合同要求日期不晚于今天）",
                    "the data would end in the future (the contract forbids future dates)",
                )
            )


def load_rates(path: Path | None = None, overrides: list[str] | None = None, base: Rates | None = None) -> Rates:
    """Rates from a YAML/TOML file (``kind: rate``) and ``kind=value`` overrides on top of the defaults.

    Read by the shared settings loader (:mod:`gridaudit.settings_file`): an unknown kind is an error."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(read_settings_file(path))
    for item in overrides or []:
        if "=" not in item:
            raise ValueError(both(f"--rate 应为 kind=value：{item}", f"--rate must be kind=value: {item}"))
        k, v = item.split("=", 1)
        values[k.strip()] = v.strip()
    where = f"{path} / --rate" if path is not None else "--rate"
    rates = settings_from_mapping(
        Rates, {k: _rate(v) for k, v in values.items()}, where, base, noun=("异常类型", "irregularity kind")
    )
    for k in values:
        if not 0 <= getattr(rates, k) <= 1:
            raise ValueError(both(f"{k} 的比率须在 0 到 1 之间", f"rate of {k} must be between 0 and 1"))
    return rates


def _rate(value: Any) -> Any:
    """A ``--rate`` text as a number where it is one (the settings loader refuses the rest, naming it)."""
    try:
        return float(value) if isinstance(value, str) else value
    except ValueError:
        return value
