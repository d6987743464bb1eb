"""The network and the organisation: units, 10 kV feeders, transformer areas, staff, chunk plan.

Company → county companies → supply stations (供电所); each station runs feeders; each feeder
feeds 12–35 transformer areas of 50–400 customers and a few large customers on dedicated
transformers. Customers are numbered feeder by feeder (areas first, then the feeder's large
customers), so a chunk of consecutive feeders is a contiguous range of customers and holds
everything a feeder-head balance needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gridaudit.synth.config import Model
from gridaudit.synth.names import person_names, place_names

# Distribution transformer sizes (kVA) with S13 no-load / load losses (kW).
TRANSFORMERS = np.array([100, 160, 200, 250, 315, 400, 500, 630, 800], dtype=float)
NO_LOAD_KW = np.array([0.15, 0.20, 0.24, 0.29, 0.34, 0.41, 0.48, 0.57, 0.70])
LOAD_KW = np.array([1.58, 2.31, 2.73, 3.20, 3.83, 4.52, 5.41, 6.20, 7.50])


@dataclass
class Topology:
    """Global, small arrays of the network and organisation (index = position)."""

    units: dict[str, list]
    staff: dict[str, list]
    feeder_id: list[str]
    feeder_station: np.ndarray  # station index per feeder
    feeder_loss: np.ndarray
    feeder_cust_start: np.ndarray  # first customer index of each feeder (len = feeders + 1)
    feeder_direct: np.ndarray  # number of large customers on each feeder
    feeders: dict[str, list]
    area_id: list[str]
    area_feeder: np.ndarray
    area_size: np.ndarray
    area_cust_start: np.ndarray  # first customer index of each area
    area_loss: np.ndarray
    area_kva: np.ndarray
    area_poor_ami: np.ndarray
    area_rural: np.ndarray
    area_hotspot: np.ndarray  # theft clusters here
    area_reader: np.ndarray  # staff index of the area's reader
    area_read_day: np.ndarray
    areas: dict[str, list]
    station_unit: list[str]  # unit_id of each station
    station_staff: dict[str, list[np.ndarray]]  # role -> per station: staff indices
    estimating_readers: np.ndarray  # staff indices
    bad_clerks: np.ndarray
    chunks: list[tuple[int, int]]  # (first feeder, last feeder + 1)
    customers: int


def _area_sizes(rng: np.random.Generator, total: int, m: Model) -> np.ndarray:
    sizes: list[int] = []
    left = total
    while left > 0:
        s = int(np.clip(round(rng.lognormal(math.log(m.area_size_median), 0.55)), m.area_size_min, m.area_size_max))
        sizes.append(min(s, left))
        left -= s
    arr = np.array(sizes)
    if len(arr) > 1 and arr[-1] < m.area_size_min:  # spread a small remainder over the other areas
        rem, arr = arr[-1], arr[:-1]
        np.add.at(arr, np.arange(rem) % len(arr), 1)
    return arr


def build_topology(rng: np.random.Generator, customers: int, chunk_customers: int, m: Model) -> Topology:
    """Draw the whole network and organisation for ``customers`` customers."""
    n_large = max(2, round(customers * m.large_industrial_share))
    sizes = _area_sizes(rng, customers - n_large, m)
    n_areas = len(sizes)
    hi = max(2, min(m.areas_per_feeder_max, n_areas // 2))
    lo = min(m.areas_per_feeder_min, hi)
    per_feeder: list[int] = []
    while sum(per_feeder) < n_areas:
        per_feeder.append(int(rng.integers(lo, hi + 1)))
    per_feeder[-1] -= sum(per_feeder) - n_areas
    if per_feeder[-1] == 0:
        per_feeder.pop()
    n_feeders = len(per_feeder)
    area_feeder = np.repeat(np.arange(n_feeders), per_feeder)
    feeder_direct = np.bincount(rng.integers(0, n_feeders, n_large), minlength=n_feeders)

    n_stations = max(1, min(n_feeders, math.ceil(customers / m.customers_per_station)))
    n_counties = max(min(2, n_stations), math.ceil(n_stations / m.stations_per_county))
    feeder_station = np.arange(n_feeders) * n_stations // n_feeders
    station_county = np.arange(n_stations) * n_counties // n_stations

    # customer numbering: per feeder, its areas' customers then its direct customers
    feeder_cust = np.bincount(area_feeder, weights=sizes, minlength=n_feeders).astype(int) + feeder_direct
    feeder_cust_start = np.concatenate([[0], np.cumsum(feeder_cust)])
    area_cust_start = np.empty(n_areas, dtype=np.int64)
    pos = 0
    for a in range(n_areas):
        if a == 0 or area_feeder[a] != area_feeder[a - 1]:
            if a > 0:
                pos += feeder_direct[area_feeder[a - 1]]
        area_cust_start[a] = pos
        pos += sizes[a]

    places = place_names(rng, n_counties + n_stations + n_feeders + n_areas + 1)
    units: dict[str, list[Any]] = {
        "unit_id": ["U00"],
        "name": ["江北供电公司"],
        "parent_id": [None],
        "level": ["company"],
    }
    for c in range(n_counties):
        units["unit_id"].append(f"U{c + 1:02d}")
        units["name"].append(f"{places[c]}县供电公司")
        units["parent_id"].append("U00")
        units["level"].append("county")
    station_unit = []
    for s in range(n_stations):
        uid = f"U{station_county[s] + 1:02d}{s + 1:02d}"
        station_unit.append(uid)
        units["unit_id"].append(uid)
        units["name"].append(f"{places[n_counties + s]}供电所")
        units["parent_id"].append(f"U{station_county[s] + 1:02d}")
        units["level"].append("station")

    # staff per station, auditors and managers per county and company
    staff: dict[str, list] = {"staff_id": [], "unit_id": [], "role": [], "name": []}
    station_staff: dict[str, list[np.ndarray]] = {}
    st_customers = np.bincount(feeder_station, weights=feeder_cust, minlength=n_stations)
    st_areas = np.bincount(feeder_station[area_feeder], minlength=n_stations)

    def add(unit: str, role: str, k: int) -> np.ndarray:
        first = len(staff["staff_id"])
        for i in range(k):
            staff["staff_id"].append(f"S{first + i + 1:05d}")
            staff["unit_id"].append(unit)
            staff["role"].append(role)
        return np.arange(first, first + k)

    per_role = {"reader": 1500, "clerk": 5000, "collector": 5000, "inspector": 6000}
    for s in range(n_stations):
        for role, per in per_role.items():
            station_staff.setdefault(role, []).append(
                add(station_unit[s], role, max(2, math.ceil(st_customers[s] / per)))
            )
        station_staff.setdefault("area_manager", []).append(
            add(station_unit[s], "area_manager", max(1, math.ceil(st_areas[s] / 12)))
        )
    for c in range(n_counties):
        add(f"U{c + 1:02d}", "auditor", 2)
        add(f"U{c + 1:02d}", "manager", 1)
    add("U00", "auditor", 3)
    add("U00", "manager", 1)
    staff["name"] = person_names(rng, len(staff["staff_id"]))

    # areas: transformer, losses, AMI state, reader and read day
    area_kva = TRANSFORMERS[np.minimum(np.searchsorted(TRANSFORMERS, sizes * 2.2), len(TRANSFORMERS) - 1)]
    tix = np.searchsorted(TRANSFORMERS, area_kva)
    area_loss = rng.uniform(m.area_loss_min, m.area_loss_max, n_areas)
    area_poor = rng.random(n_areas) < m.ami_poor_area_share
    area_rural = rng.random(n_areas) < 0.4
    area_hotspot = rng.random(n_areas) < m.theft_hotspot_area_share
    area_reader = np.empty(n_areas, dtype=np.int64)
    area_manager = np.empty(n_areas, dtype=np.int64)
    area_read_day = np.empty(n_areas, dtype=np.int64)
    for s in range(n_stations):
        idx = np.flatnonzero(feeder_station[area_feeder] == s)
        readers = station_staff["reader"][s]
        managers = station_staff["area_manager"][s]
        area_reader[idx] = readers[np.arange(len(idx)) % len(readers)]
        area_manager[idx] = managers[np.arange(len(idx)) // 12 % len(managers)]
        # each reader walks their areas on consecutive days from a personal start day
        rank = np.arange(len(idx)) // len(readers)
        base = 1 + (np.arange(len(idx)) % len(readers)) * 3 % 10
        area_read_day[idx] = 1 + (base - 1 + rank) % 25
    areas = {
        "area_id": [f"A{a + 1:05d}" for a in range(n_areas)],
        "feeder_id": [f"F{f + 1:04d}" for f in area_feeder],
        "unit_id": [station_unit[s] for s in feeder_station[area_feeder]],
        "name": [f"{places[n_counties + n_stations + n_feeders + a]}{a % 9 + 1}号台区" for a in range(n_areas)],
        "transformer_kva": area_kva.tolist(),
        "no_load_loss_kw": NO_LOAD_KW[tix].tolist(),
        "load_loss_kw": LOAD_KW[tix].tolist(),
        "manager_id": [staff["staff_id"][i] for i in area_manager],
    }
    feeder_id = [f"F{f + 1:04d}" for f in range(n_feeders)]
    feeders: dict[str, list[Any]] = {
        "feeder_id": feeder_id,
        "unit_id": [station_unit[s] for s in feeder_station],
        "voltage_kv": [10.0] * n_feeders,
        "name": [f"10kV{places[n_counties + n_stations + f]}线" for f in range(n_feeders)],
        "substation": [
            f"{places[n_counties + n_stations + (f // 6) % max(1, n_feeders)]}110kV变电站" for f in range(n_feeders)
        ],
    }
    readers_all = np.concatenate(station_staff["reader"])
    clerks_all = np.concatenate(station_staff["clerk"])
    est = rng.choice(readers_all, max(1, round(len(readers_all) * m.estimating_reader_share)), replace=False)
    bad = rng.choice(clerks_all, max(1, round(len(clerks_all) * m.bad_clerk_share)), replace=False)

    chunks: list[tuple[int, int]] = []
    first = 0
    for f in range(n_feeders):
        if feeder_cust_start[f + 1] - feeder_cust_start[first] > chunk_customers and f > first:
            chunks.append((first, f))
            first = f
    chunks.append((first, n_feeders))
    return Topology(
        units=units,
        staff=staff,
        feeder_id=feeder_id,
        feeder_station=feeder_station,
        feeder_loss=rng.uniform(m.feeder_loss_min, m.feeder_loss_max, n_feeders),
        feeder_cust_start=feeder_cust_start,
        feeder_direct=feeder_direct,
        feeders=feeders,
        area_id=areas["area_id"],
        area_feeder=area_feeder,
        area_size=sizes,
        area_cust_start=area_cust_start,
        area_loss=area_loss,
        area_kva=area_kva,
        area_poor_ami=area_poor,
        area_rural=area_rural,
        area_hotspot=area_hotspot,
        area_reader=area_reader,
        area_read_day=area_read_day,
        areas=areas,
        station_unit=station_unit,
        station_staff=station_staff,
        estimating_readers=np.sort(est),
        bad_clerks=np.sort(bad),
        chunks=chunks,
        customers=int(feeder_cust_start[-1]),
    )
