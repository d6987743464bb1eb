"""Issue 17, branch mapping: would mapping errors that come in groups (a branch moved in a 台区割接) be visible?

    PYTHONPATH=src nice -n 5 python bench/mapping_group_visibility.py --ds /tmp/map17/bench/n20000-s42/ds \
        [--sizes 1 3 5 10 20 40] [--draws 300] [--seed 7]

An estimate, not a detector: for groups of g residential customers of one area (consecutive customer numbers, as
a branch of one LV line), the t their summed use would have in the loss of the next area on the same feeder if
they were fed from it: t ≈ sd(group's high-passed use) / sd(that area's high-passed loss given its supply)
× √(days − 3). The area's loss noise is measured as it is (its own theft, gaps, other errors), the group's swings
from its members' real AMI series (gaps filled by their mean), so what it leaves out is only the group's own
correlation with the area's loss. Printed: share of groups with t ≥ 4 and ≥ 7, per g.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from detect_issue17 import oracle_inputs  # noqa: E402
from gridaudit.lineloss import mapping as lm  # noqa: E402
from gridaudit.lineloss.settings import LossSettings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ds", type=Path, required=True)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1, 3, 5, 10, 20, 40])
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    s = LossSettings()
    o = oracle_inputs(a.ds, s)
    days, wd, ar = o.days, o.day_types, o.areas
    residential = np.array([o.category.get(c) == "residential" for c in o.ids], dtype=bool)  # households only
    hp = s.mapping.high_pass_days
    noise: dict[int, float] = {}
    feeder: dict[int, int] = {}
    for area in np.unique(ar["area_no"]):
        k = ar["area_no"] == area
        sup, loss = np.full(days, np.nan), np.full(days, np.nan)
        sup[ar["di"][k]], loss[ar["di"][k]] = ar["supply"][k], ar["loss"][k]
        sh, lh = lm.high_pass(sup, wd, hp)[0], lm.high_pass(loss, wd, hp)[0]
        ok = ~np.isnan(sh) & ~np.isnan(lh)
        if ok.sum() < 100:
            continue
        x = np.column_stack([np.ones(ok.sum()), sh[ok]])
        coef, *_ = np.linalg.lstsq(x, lh[ok], rcond=None)
        noise[int(area)] = float(np.std(lh[ok] - x @ coef))
        feeder[int(area)] = int(ar["feeder_no"][k][0])
    u, own = o.use[residential], o.own[residential]
    mean = np.nan_to_num(np.nanmean(np.where(np.isnan(u).all(1)[:, None], 0.0, u), axis=1))
    uh = lm.high_pass(np.where(np.isnan(u), mean[:, None], u), wd, hp)
    areas = sorted(noise)
    nxt = {}
    for area in areas:  # the next area of the same feeder (or the one before)
        same = [b for b in areas if feeder[b] == feeder[area] and b != area]
        if same:
            nxt[area] = min(same, key=lambda b: (abs(b - area), b))
    rng = np.random.default_rng(a.seed)
    by_area = {area: np.flatnonzero(own == area) for area in nxt}
    print("| group size g | groups | median kWh/day of the group | median t | t ≥ 4 | t ≥ 7 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for g in a.sizes:
        pool = [area for area, rows in by_area.items() if len(rows) >= g]
        ts, kwh = [], []
        for _ in range(a.draws):
            area = pool[int(rng.integers(len(pool)))]
            rows = by_area[area]
            first = int(rng.integers(0, len(rows) - g + 1))
            grp = rows[first : first + g]
            ts.append(np.std(uh[grp].sum(0)) / noise[nxt[area]] * np.sqrt(days - 3))
            kwh.append(mean[grp].sum())
        t = np.array(ts)
        print(
            f"| {g} | {len(t)} | {np.median(kwh):.0f} | {np.median(t):.1f} | {(t >= 4).mean():.2f} | "
            f"{(t >= 7).mean():.2f} |"
        )


if __name__ == "__main__":
    main()
