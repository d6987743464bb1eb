"""A Chinese catalogue tariff (目录电价) with versions, and vectorised price look-up.

Residential: tiered (阶梯电价) tier 1/2/3 codes; bills of the synthetic utility use the tier-1 code and
price (annual tier settlement is out of scope). Commercial and industrial: single-part, with a
time-of-use code whose price is the average of its peak/flat/valley prices. Large industrial: two-part
(两部制) with a monthly demand charge per kVA of contract capacity. Non-residential prices fall by a
few percent at the middle month of the run (a new tariff version: valid_to / valid_from).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from gridaudit.synth.timeaxis import add_months, epoch_days

# code, category, voltage_kv, price v1, price v2 (None: unchanged), two_part, demand ¥/kVA·month
CATALOGUE = [
    ("RES-LV", "residential", 0.22, 0.4883, None, False, None),
    ("RES-LV-T2", "residential", 0.22, 0.5383, None, False, None),
    ("RES-LV-T3", "residential", 0.22, 0.7883, None, False, None),
    ("COM-LV", "commercial", 0.4, 0.6550, 0.6350, False, None),
    ("COM-LV-TOU", "commercial", 0.4, 0.6400, 0.6200, False, None),
    ("IND-LV", "industrial", 0.4, 0.6650, 0.6450, False, None),
    ("LI-10", "large_industrial", 10.0, 0.5950, 0.5770, True, 32.0),
    ("AGR-LV", "agricultural", 0.4, 0.5080, None, False, None),
]
CODES = [c[0] for c in CATALOGUE]
CODE_INDEX = {c: i for i, c in enumerate(CODES)}


@dataclass
class TariffBook:
    """Prices per code and version; version 2 starts at ``change_epoch`` where a code changes."""

    change: date
    change_epoch: int
    price1: np.ndarray
    price2: np.ndarray
    demand: np.ndarray  # 0 where single-part
    table: dict[str, list]

    def price(self, code_idx: np.ndarray, day_epoch: np.ndarray) -> np.ndarray:
        """Energy price (¥/kWh) of each code in force on each day."""
        return np.where(np.asarray(day_epoch) >= self.change_epoch, self.price2[code_idx], self.price1[code_idx])

    def stale_price(self, code_idx: np.ndarray, day_epoch: np.ndarray) -> np.ndarray:
        """The *other* version's price (what a stale tariff table would charge)."""
        return np.where(np.asarray(day_epoch) >= self.change_epoch, self.price1[code_idx], self.price2[code_idx])


def build_tariffs(start: date, months: int) -> TariffBook:
    """The tariff catalogue with versions around a run starting at ``start``."""
    since = date(start.year - 2, 1, 1)
    change = add_months(start, max(1, months // 2))
    table: dict[str, list] = {
        k: []
        for k in (
            "tariff_code",
            "category",
            "price_yuan_kwh",
            "valid_from",
            "valid_to",
            "two_part",
            "demand_price_yuan_kva",
            "voltage_kv",
        )
    }
    p1, p2, dem = [], [], []
    for code, cat, kv, v1, v2, two, demand in CATALOGUE:
        versions = [(since, v1, change - timedelta(days=1) if v2 else None)]
        if v2:
            versions.append((change, v2, None))
        for vf, price, vt in versions:
            table["tariff_code"].append(code)
            table["category"].append(cat)
            table["price_yuan_kwh"].append(price)
            table["valid_from"].append(vf)
            table["valid_to"].append(vt)
            table["two_part"].append(two)
            table["demand_price_yuan_kva"].append(demand)
            table["voltage_kv"].append(kv)
        p1.append(v1)
        p2.append(v2 or v1)
        dem.append(demand or 0.0)
    return TariffBook(change, epoch_days(change), np.array(p1), np.array(p2), np.array(dem), table)
