"""A Chinese catalogue tariff (目录电价) with versions, tiers, time-of-use, and vectorised charges.

* Residential (居民阶梯电价): one code with **monthly** tiers — the first 180 kWh of a bill at the tier-1
  price, 180–280 kWh at +0.05 ¥, above 280 kWh at +0.30 ¥ (the usual annual 2,160 / 4,200 kWh scheme
  divided by twelve; annual settlement is out of scope).
* Commercial and industrial: single-part (一般工商业), or time-of-use (峰谷分时): the energy of a bill is
  split into peak (峰), flat (平) and valley (谷) quantities, each at its own price; ``price_yuan_kwh`` is the
  flat price, peak = 1.6 × flat, valley = 0.5 × flat.
* Large industrial: two-part (两部制) with a monthly demand charge per kVA of contract capacity, and
  time-of-use. Non-residential prices fall by a few percent at the middle month of the run (a second
  tariff version: ``valid_to`` / ``valid_from``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from gridaudit.synth.timeaxis import add_months, epoch_days

# Time-of-use periods (hour of day, 0–23): peak 8–11 and 18–23 h, valley 23–7 h, flat the rest.
PEAK_HOURS = np.array([h in range(8, 11) or h in range(18, 23) for h in range(24)])
VALLEY_HOURS = np.array([h == 23 or h < 7 for h in range(24)])
PEAK_FACTOR, VALLEY_FACTOR = 1.6, 0.5
# Residential monthly tiers: upper bounds (kWh) and the tier-2 / tier-3 mark-ups on the tier-1 price.
TIER1_KWH, TIER2_KWH = 180.0, 280.0
TIER2_MARKUP, TIER3_MARKUP = 0.05, 0.30


@dataclass(frozen=True)
class Code:
    """One tariff code: flat price of version 1 and 2 (None: unchanged), two-part demand price, kinds."""

    code: str
    category: str
    voltage_kv: float
    price1: float
    price2: float | None = None
    demand: float | None = None  # ¥/kVA·month, two-part tariffs only
    tiered: bool = False
    tou: bool = False


CATALOGUE = [
    Code("RES-LV", "residential", 0.22, 0.4883, tiered=True),
    Code("COM-LV", "commercial", 0.4, 0.6550, 0.6350),
    Code("COM-LV-TOU", "commercial", 0.4, 0.6400, 0.6200, tou=True),
    Code("IND-LV", "industrial", 0.4, 0.6650, 0.6450),
    Code("IND-LV-TOU", "industrial", 0.4, 0.6500, 0.6300, tou=True),
    Code("LI-10", "large_industrial", 10.0, 0.5950, 0.5770, demand=32.0, tou=True),
    Code("AGR-LV", "agricultural", 0.4, 0.5080),
]
CODES = [c.code for c in CATALOGUE]
CODE_INDEX = {c: i for i, c in enumerate(CODES)}
TABLE_COLUMNS = (
    "tariff_code",
    "category",
    "price_yuan_kwh",
    "valid_from",
    "valid_to",
    "two_part",
    "demand_price_yuan_kva",
    "voltage_kv",
    "tier1_kwh",
    "tier2_kwh",
    "tier2_price_yuan_kwh",
    "tier3_price_yuan_kwh",
    "peak_price_yuan_kwh",
    "valley_price_yuan_kwh",
)


@dataclass
class TariffBook:
    """Prices per code (rows) and version (columns 0/1); version 2 starts at ``change_epoch``."""

    change: date
    change_epoch: int
    flat: np.ndarray  # (codes, 2)
    peak: np.ndarray  # (codes, 2), NaN where not time-of-use
    valley: np.ndarray
    tiered: np.ndarray  # (codes,) bool
    tou: np.ndarray  # (codes,) bool
    demand: np.ndarray  # 0 where single-part
    table: dict[str, list]

    def version(self, day_epoch: np.ndarray) -> np.ndarray:
        """Version index (0 or 1) in force on each day."""
        return (np.asarray(day_epoch) >= self.change_epoch).astype(np.int64)

    def price(self, code_idx: np.ndarray, day_epoch: np.ndarray) -> np.ndarray:
        """Flat (tier-1) energy price (¥/kWh) of each code in force on each day."""
        return self.flat[code_idx, self.version(day_epoch)]

    def energy_charge(
        self,
        code_idx: np.ndarray,
        version: np.ndarray,
        kwh: np.ndarray,
        peak_kwh: np.ndarray,
        valley_kwh: np.ndarray,
    ) -> np.ndarray:
        """Energy charge (¥, unrounded) of bills: tier by tier on tiered codes, peak/flat/valley on
        time-of-use codes (flat = kwh − peak − valley; NaN quantities count as 0), kwh × price otherwise."""
        p = self.flat[code_idx, version]
        kwh = np.asarray(kwh, dtype=float)
        pk = np.nan_to_num(np.asarray(peak_kwh, dtype=float))
        vl = np.nan_to_num(np.asarray(valley_kwh, dtype=float))
        tiers = (
            np.minimum(kwh, TIER1_KWH) * p
            + np.maximum(np.minimum(kwh, TIER2_KWH) - TIER1_KWH, 0) * (p + TIER2_MARKUP)
            + np.maximum(kwh - TIER2_KWH, 0) * (p + TIER3_MARKUP)
        )
        tou = (
            pk * np.nan_to_num(self.peak[code_idx, version])
            + vl * np.nan_to_num(self.valley[code_idx, version])
            + (kwh - pk - vl) * p
        )
        return np.where(self.tiered[code_idx], tiers, np.where(self.tou[code_idx], tou, kwh * p))


def _r4(x: float) -> float:
    return round(x, 4)


def build_tariffs(start: date, months: int) -> TariffBook:
    """The tariff catalogue with versions around a run starting at ``start``."""
    since = date(start.year - 2, 1, 1)
    change = add_months(start, max(1, months // 2))
    table: dict[str, list] = {k: [] for k in TABLE_COLUMNS}
    flat, peak, valley = [], [], []
    for c in CATALOGUE:
        prices = [c.price1, c.price2 if c.price2 is not None else c.price1]
        flat.append(prices)
        peak.append([_r4(p * PEAK_FACTOR) if c.tou else np.nan for p in prices])
        valley.append([_r4(p * VALLEY_FACTOR) if c.tou else np.nan for p in prices])
        versions = [(since, 0, change - timedelta(days=1) if c.price2 is not None else None)]
        if c.price2 is not None:
            versions.append((change, 1, None))
        for vf, v, vt in versions:
            row = {
                "tariff_code": c.code,
                "category": c.category,
                "price_yuan_kwh": prices[v],
                "valid_from": vf,
                "valid_to": vt,
                "two_part": c.demand is not None,
                "demand_price_yuan_kva": c.demand,
                "voltage_kv": c.voltage_kv,
                "tier1_kwh": TIER1_KWH if c.tiered else None,
                "tier2_kwh": TIER2_KWH if c.tiered else None,
                "tier2_price_yuan_kwh": _r4(prices[v] + TIER2_MARKUP) if c.tiered else None,
                "tier3_price_yuan_kwh": _r4(prices[v] + TIER3_MARKUP) if c.tiered else None,
                "peak_price_yuan_kwh": peak[-1][v] if c.tou else None,
                "valley_price_yuan_kwh": valley[-1][v] if c.tou else None,
            }
            for k, val in row.items():
                table[k].append(val)
    return TariffBook(
        change=change,
        change_epoch=epoch_days(change),
        flat=np.array(flat),
        peak=np.array(peak),
        valley=np.array(valley),
        tiered=np.array([c.tiered for c in CATALOGUE]),
        tou=np.array([c.tou for c in CATALOGUE]),
        demand=np.array([c.demand or 0.0 for c in CATALOGUE]),
        table=table,
    )
