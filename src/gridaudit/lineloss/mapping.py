"""Customer–area mapping errors (户变关系错误): all customers × all areas of their feeder, in numpy.

All series are high-passed first (minus a centred ``mapping.high_pass_days`` moving mean and the means per
day type: weekday on working days, weekend, public holiday — official calendar with 调休): season, trends
and theft steps leave the areas' loss, and the weekly and holiday rhythm many customers share leaves the
customers' use, so what remains is each customer's own day-to-day swings. Optionally (``theft_regressors`` > 0)
each area's loss is also taken given a few of its own customers whose use raises it (its own theft,
``_theft_controls``); the recorded area's side of the test stays without them. When several customers pass for
the same area B, they are kept strongest first only while each still passes in a joint regression.

For customer c recorded on area A and every area B on the same feeder, over the days B's supply reported:

    loss_B(t) = α + γ·supply_B(t) + β·use_c(t) + ε

Controlling for supply_B removes the load pattern every customer shares; β ≈ 1 when c's energy passes B's
transformer but is billed on A, and the same regression on A gives β_A ≈ −1. A finding needs, for the best B
(highest t-statistic of β): β within [beta_min, beta_max], partial correlation ≥ min_partial_corr,
t = r·√((n−3)/(1−r²)) ≥ min_t (many pairs are tested, so the bar is high), β_A ≤ own_beta_max, and B's
loss over the window ≥ min_loss_cover × c's use (energy billed on A but fed by B shows up as B's loss).

The per-pair statistics come from covariances: with v1 = var(supply_B), v2 = var(use_c), c12 = cov(supply_B,
use_c), c1y = cov(supply_B, loss_B), c2y = cov(use_c, loss_B): β = (v1·c2y − c12·c1y) / (v1·v2 − c12²).
A customer's missing days are filled with its own mean (``gap_fill_days`` > 0: its mean over that many days
around the gap), and so is the area's sales on the days a recorded customer's
AMI missed inside its reporting span (a gap day is not loss: unfilled, one large customer's gap moves an area's
loss more than a small customer's whole use); customers with fewer than ``min_days`` days are skipped.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.inputs import ask
from gridaudit.lineloss.settings import LossSettings

AREA_SQL = """
SELECT n.node_no AS area_no, f.node_no AS feeder_no, CAST(l.day - CAST($d_from AS DATE) AS INTEGER) AS di,
       CAST(l.supply AS DOUBLE) / 1000.0 AS supply, CAST(l.supply - l.sales AS DOUBLE) / 1000.0 AS loss
FROM ll_level_day l
JOIN ll_nodes n ON n.node_kind = 'area_sales' AND n.node_id = l.entity_id
JOIN ll_nodes f ON f.node_kind = 'feeder_supply' AND f.node_id = l.feeder_id
WHERE l.level = 'area' AND l.sup_exp > 0 AND l.sup_rep >= l.sup_exp
ORDER BY feeder_no, area_no, di
"""

CUST_SQL = """
SELECT c.cust_no, c.area_no, CAST(c.day - CAST($d_from AS DATE) AS INTEGER) AS di, c.use
FROM ll_cust_day c
WHERE c.area_no IN (SELECT area_no FROM ll_mapping_batch)
"""

SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("recorded_area", pa.string()),
        ("likely_area", pa.string()),
        ("days", pa.int64()),
        ("use_kwh", pa.float64()),
        ("beta", pa.float64()),
        ("partial_corr", pa.float64()),
        ("t_stat", pa.float64()),
        ("beta_own", pa.float64()),
        ("partial_corr_own", pa.float64()),
    ]
)


def day_types(start: date, days: int) -> np.ndarray:
    """Day type per day: weekday 0–6 on official working days, 7 on weekends off, 8 on public holidays."""
    from datetime import timedelta

    from gridaudit.workdays import is_workday

    out = np.empty(days, dtype=np.int64)
    for i in range(days):
        d = start + timedelta(days=i)
        out[i] = d.weekday() if is_workday(d) else (7 if d.weekday() >= 5 else 8)
    return out


def high_pass(x: np.ndarray, weekday: np.ndarray, window: int) -> np.ndarray:
    """Day-to-day component of each row: minus a centred ``window``-day moving mean, minus the weekday means.

    NaN-aware (missing days stay NaN). Removes season, trends and theft steps from an area's loss and
    weekly patterns shared by many customers, leaving what one customer's own daily swings can explain.
    """
    x = np.atleast_2d(x)
    have = ~np.isnan(x)
    z = np.where(have, x, 0.0)
    k = np.ones(max(1, min(window, x.shape[1])))
    sums = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, z)
    cnt = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, have.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(have, x - sums / np.maximum(cnt, 1), np.nan)
    for wd in np.unique(weekday):
        cols = weekday == wd
        if cols.any():
            r[:, cols] -= np.nanmean(np.where(np.isnan(r[:, cols]), np.nan, r[:, cols]), axis=1, keepdims=True)
    return r


def _pair_stats(u: np.ndarray, s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """β and partial correlation of y on u given s, for every row of ``u`` (customers × days)."""
    n = len(s)
    uc = u - u.mean(axis=1, keepdims=True)
    sc, yc = s - s.mean(), y - y.mean()
    v1, vy, c1y = sc @ sc / n, yc @ yc / n, sc @ yc / n
    v2 = (uc * uc).sum(axis=1) / n
    c12, c2y = uc @ sc / n, uc @ yc / n
    den = v1 * v2 - c12 * c12
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(den > 1e-12 * (v1 * v2 + 1e-12), (v1 * c2y - c12 * c1y) / den, np.nan)
        ry1 = c1y / np.sqrt(vy * v1)
        ry2 = c2y / np.sqrt(vy * v2)
        r12 = c12 / np.sqrt(v1 * v2)
        pc = (ry2 - ry1 * r12) / np.sqrt((1 - ry1 * ry1) * (1 - r12 * r12))
    return beta, pc


def _block_stats(u: np.ndarray, s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """β and partial correlation for customers (rows of u) × areas (rows of s, y), all over the same days."""
    n = u.shape[1]
    uc = u - u.mean(axis=1, keepdims=True)
    sc = s - s.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    v1, vy, c1y = (sc * sc).sum(1) / n, (yc * yc).sum(1) / n, (sc * yc).sum(1) / n
    v2 = ((uc * uc).sum(1) / n)[:, None]
    c12, c2y = uc @ sc.T / n, uc @ yc.T / n
    den = v1 * v2 - c12 * c12
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(den > 1e-12 * (v1 * v2 + 1e-12), (v1 * c2y - c12 * c1y) / den, np.nan)
        ry1 = c1y / np.sqrt(vy * v1)
        ry2 = c2y / np.sqrt(vy * v2)
        r12 = c12 / np.sqrt(v1 * v2)
        pc = (ry2 - ry1 * r12) / np.sqrt((1 - ry1 * ry1) * (1 - r12 * r12))
    return beta, pc


def _between_reports(u: np.ndarray) -> np.ndarray:
    """True for each day on or after a row's first reported day and on or before its last (NaN = not reported)."""
    have = ~np.isnan(u)
    return (np.cumsum(have, axis=1) > 0) & (np.cumsum(have[:, ::-1], axis=1)[:, ::-1] > 0)


def local_level(u: np.ndarray, window: int, fallback: np.ndarray) -> np.ndarray:
    """Per row and day: the mean of the row's reported days (not NaN) within a centred ``window``-day span,
    ``fallback`` (per row) where that span has none; ``window`` 0 gives ``fallback`` everywhere."""
    if window <= 0:
        return np.broadcast_to(fallback[:, None], u.shape).copy()
    have = ~np.isnan(u)
    k = np.ones(min(window, u.shape[1]))
    sums = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, np.where(have, u, 0.0))
    cnt = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, have.astype(float))
    return np.where(cnt > 0, sums / np.maximum(cnt, 1), fallback[:, None])


def _gap_fill_by_area(gaps: np.ndarray, level: np.ndarray, own_area: np.ndarray, area_nos: list[int]) -> np.ndarray:
    """Per area (rows in ``area_nos`` order) and day: the use its recorded customers' AMI gaps leave out of
    sales, each gap day (inside the customer's reporting span) filled with ``level`` (customers × days)."""
    fill = np.where(gaps, level, 0.0)
    out = np.zeros((len(area_nos), gaps.shape[1]))
    pos = {a: j for j, a in enumerate(area_nos)}
    rows = np.array([pos.get(int(a), -1) for a in own_area], dtype=np.int64)
    keep = rows >= 0
    np.add.at(out, rows[keep], fill[keep])
    return out


def _feeder(areas: dict[int, tuple], cust: dict, days: int, settings: LossSettings, weekday: np.ndarray) -> list[dict]:
    """Mapping candidates among the customers (integer ids) of one feeder's areas."""
    m = settings.mapping
    ids, rows = np.unique(cust["cust_no"], return_inverse=True)
    if len(ids) == 0:
        return []
    u = np.full((len(ids), days), np.nan)
    u[rows, cust["di"]] = cust["use"]
    own_area = np.zeros(len(ids), dtype=np.int64)
    own_area[rows] = cust["area_no"]
    seen = (~np.isnan(u)).sum(axis=1)
    total = np.nansum(u, axis=1)
    mean = np.where(seen > 0, total / np.maximum(seen, 1), 0.0)
    gaps = np.isnan(u) & _between_reports(u)
    level = local_level(u, m.gap_fill_days, mean)  # a gap day is filled with the customer's use around it
    u_level = np.where(gaps, level, np.nan_to_num(u))  # energy per day as the balance should see it
    u = np.where(np.isnan(u), level, u)
    u = np.nan_to_num(high_pass(u, weekday, m.high_pass_days))
    area_nos = sorted(areas)
    s_all = np.full((len(area_nos), days), np.nan)
    y_all = np.full((len(area_nos), days), np.nan)
    for j, a in enumerate(area_nos):
        s_all[j, areas[a][0]], y_all[j, areas[a][0]] = areas[a][1], areas[a][2]
    if m.fill_gaps:
        y_all -= _gap_fill_by_area(gaps, level, own_area, area_nos)  # an AMI gap is not loss: fill it, as in u
    found: list[dict] = []
    done = np.zeros(len(ids), dtype=bool)
    for _ in range(max(1, m.rounds)):  # peel: correct the areas for the errors found, then look again
        new = _round(u, s_all, y_all, areas, area_nos, own_area, ids, seen, total, done, days, weekday, m)
        if not new:
            break
        for c in new:
            done[c["row"]] = True
            y_all[c["col"]] -= u_level[c["row"]]  # c's energy belongs to B's sales ...
            y_all[c["own_col"]] += u_level[c["row"]]  # ... and not to its recorded area's
        found.extend(new)
    for c in found:
        c.pop("row"), c.pop("col"), c.pop("own_col"), c.pop("t_own")
    return found


def _round(u: np.ndarray, s_all: np.ndarray, y_all: np.ndarray, areas: dict, area_nos: list[int],
           own_area: np.ndarray, ids: np.ndarray, seen: np.ndarray, total: np.ndarray, done: np.ndarray, days: int,
           weekday: np.ndarray, m) -> list[dict]:  # fmt: skip
    """One pass of the test over a feeder's customers not yet found, against the areas' current loss series."""
    s_f, y_f = high_pass(s_all, weekday, m.high_pass_days), high_pass(y_all, weekday, m.high_pass_days)
    z = {j: _theft_controls(u, s_f[j], y_f[j], areas[a][0], (own_area == a) & ~done, m)
         for j, a in enumerate(area_nos)}  # fmt: skip
    beta = np.full((len(ids), len(area_nos)), np.nan)
    pc = np.full_like(beta, np.nan)
    n_days = np.array([len(areas[a][0]) for a in area_nos], dtype=np.int64)
    full = [j for j, a in enumerate(area_nos) if n_days[j] == days]
    if full:  # one matrix product for every area that reported every day
        beta[:, full], pc[:, full] = _block_stats(u, s_f[full], y_f[full])
    plain_beta, plain_pc = beta.copy(), pc.copy()  # without the controls: for each customer's recorded area
    for j, a in enumerate(area_nos):
        di = areas[a][0]
        if len(di) < m.min_days or (j in full and not len(z[j])):
            continue
        if j not in full:
            plain_beta[:, j], plain_pc[:, j] = _pair_stats(u[:, di], s_f[j, di], y_f[j, di])
        if len(z[j]):  # given the area's own theft: every series minus its projection on the controls
            q, _ = np.linalg.qr(np.column_stack([np.ones(len(di)), z[j].T]))
            ud, sd, yd = u[:, di], s_f[j, di], y_f[j, di]
            beta[:, j], pc[:, j] = _pair_stats(ud - (ud @ q) @ q.T, sd - q @ (q.T @ sd), yd - q @ (q.T @ yd))
        else:
            beta[:, j], pc[:, j] = plain_beta[:, j], plain_pc[:, j]
    n_days = np.where(n_days >= m.min_days, n_days, 0)
    dof = n_days - 3 - np.array([len(z[j]) for j in range(len(area_nos))], dtype=np.int64)  # controls use some
    loss_sum = np.nansum(y_all, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = pc * np.sqrt(np.maximum(dof, 0)[None, :] / (1 - pc * pc))
        t_plain = plain_pc * np.sqrt(np.maximum(n_days - 3, 0)[None, :] / (1 - plain_pc * plain_pc))
    aj = {a: j for j, a in enumerate(area_nos)}
    out = []
    for i in range(len(ids)):
        jo = aj.get(int(own_area[i]))
        if done[i] or seen[i] < m.min_days or jo is None or not (plain_beta[i, jo] <= m.own_beta_max):
            continue
        t_own = float(t_plain[i, jo]) if np.isfinite(t_plain[i, jo]) else 0.0
        ok = (beta[i] >= m.beta_min) & (beta[i] <= m.beta_max) & (pc[i] >= m.min_partial_corr) & (t[i] >= m.min_t)
        ok &= t[i] - t_own >= m.min_pair_t  # both sides: c's use raises B's loss and lowers its recorded area's
        ok[jo] = False
        ok &= loss_sum >= m.min_loss_cover * total[i]  # B's loss must hold c's energy
        if not ok.any():
            continue
        j = int(np.argmax(np.where(ok, t[i], -np.inf)))
        out.append(
            {"row": i, "col": j, "own_col": jo, "cust_no": int(ids[i]), "recorded_no": area_nos[jo],
             "likely_no": area_nos[j], "days": int(n_days[j]), "use_kwh": float(total[i]), "beta": float(beta[i, j]),
             "partial_corr": float(pc[i, j]), "t_stat": float(t[i, j]), "beta_own": float(plain_beta[i, jo]),
             "partial_corr_own": float(plain_pc[i, jo]), "t_own": t_own}
        )  # fmt: skip
    return _joint_check(out, u, s_f, y_f, areas, area_nos, m, z)


def _theft_controls(u: np.ndarray, s: np.ndarray, y: np.ndarray, di: np.ndarray, members: np.ndarray,
                    m) -> np.ndarray:  # fmt: skip
    """Use series (rows, over the days ``di``) of up to ``m.theft_regressors`` of an area's own customers
    (``members``) whose use raises the area's loss, chosen forward, each at t ≥ ``m.theft_min_t`` given the
    supply and the ones before.

    A thief metering part of its use (bypass, shorted CT, open cover) adds stolen energy to the area's loss
    in step with what it meters; left in, its swings are noise that hides a mis-recorded customer's. A
    customer recorded here but fed elsewhere lowers the loss with its use and is never chosen.
    """
    if m.theft_regressors <= 0 or m.theft_min_t <= 0 or len(di) < m.min_days or not members.any():
        return np.empty((0, len(di)))
    rows = np.flatnonzero(members)
    cand = u[rows][:, di]
    cand = cand - cand.mean(axis=1, keepdims=True)
    norm = np.sqrt((cand * cand).sum(axis=1))
    yd = y[di]
    chosen: list[int] = []
    base = [np.ones(len(di)), s[di]]
    for _ in range(m.theft_regressors):
        x = np.column_stack(base + [cand[k] for k in chosen])
        coef, *_ = np.linalg.lstsq(x, yd, rcond=None)
        r = yd - x @ coef
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.where(norm > 1e-9, cand @ (r - r.mean()) / (norm * np.sqrt(((r - r.mean()) ** 2).sum())), 0.0)
        corr[chosen] = 0.0
        k = int(np.argmax(corr))
        if corr[k] <= 0:
            break
        x = np.column_stack([x, cand[k]])
        coef, *_ = np.linalg.lstsq(x, yd, rcond=None)
        r = yd - x @ coef
        cov = np.linalg.pinv(x.T @ x) * (r @ r / max(len(yd) - x.shape[1], 1))
        if coef[-1] <= 0 or coef[-1] / np.sqrt(max(cov[-1, -1], 1e-300)) < m.theft_min_t:
            break
        chosen.append(k)
    return cand[chosen] if chosen else np.empty((0, len(di)))


def _joint_check(cands: list[dict], u: np.ndarray, s_f: np.ndarray, y_f: np.ndarray, areas: dict,
                 area_nos: list[int], m, z: dict[int, np.ndarray]) -> list[dict]:  # fmt: skip
    """Several candidates for one area: keep them strongest first while each still passes in a joint regression.

    Customers whose swings resemble the one truly mis-recorded customer (same trade, same holidays) look like
    it one by one; given the accepted customers their own coefficient collapses.
    """
    by_area: dict[int, list[dict]] = {}
    for c in cands:
        by_area.setdefault(c["col"], []).append(c)
    kept: list[dict] = []
    for j, group in by_area.items():
        group.sort(key=lambda c: -(c["t_stat"] - c["t_own"]))
        di = areas[area_nos[j]][0]
        y = y_f[j, di]
        base = [np.ones(len(di)), s_f[j, di], *z[j]]
        accepted: list[dict] = []
        for c in group:
            cols = base + [u[a["row"], di] for a in accepted] + [u[c["row"], di]]
            x = np.column_stack(cols)
            coef, *_ = np.linalg.lstsq(x, y, rcond=None)
            resid = y - x @ coef
            dof = max(len(y) - x.shape[1], 1)
            cov = np.linalg.pinv(x.T @ x) * (resid @ resid / dof)
            t_joint = coef[-1] / np.sqrt(max(cov[-1, -1], 1e-300))
            if m.beta_min <= coef[-1] <= m.beta_max and t_joint >= m.min_t and t_joint - c["t_own"] >= m.min_pair_t:
                accepted.append(c)
        kept.extend(accepted)
    return kept


CHUNK_ROWS = 12_000_000


def _numpy(table: pa.Table) -> dict[str, np.ndarray]:
    """Columns of ``table`` as numpy arrays (what DuckDB's ``fetchnumpy`` gave, from any engine)."""
    return {c: table.column(c).to_numpy() for c in table.column_names}


def find_mapping_errors(engine: Engine, start: date, days: int, settings: LossSettings) -> pa.Table:
    """Customers whose daily use explains another area's loss on the same feeder (one best candidate each)."""
    a = _numpy(ask(engine, AREA_SQL, {"d_from": start}))
    feeders: dict[int, dict[int, tuple]] = {}
    key = a["area_no"].astype(np.int64)
    bounds = np.flatnonzero(np.diff(key)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(key)], strict=True):
        if hi > lo:
            feeders.setdefault(int(a["feeder_no"][lo]), {})[int(key[lo])] = (a["di"][lo:hi], a["supply"][lo:hi],
                                                                          a["loss"][lo:hi])  # fmt: skip
    counted = ask(engine, "SELECT area_no, COUNT(*) AS n FROM ll_cust_day GROUP BY area_no")
    sizes = dict(zip(counted.column("area_no").to_pylist(), counted.column("n").to_pylist(), strict=True))
    weekday = day_types(start, days)
    found: list[dict] = []
    batch: list[int] = []
    rows = 0
    todo = [f for f in sorted(feeders) if len(feeders[f]) >= 2]
    for k, f in enumerate(todo):
        batch.append(f)
        rows += sum(sizes.get(a, 0) for a in feeders[f])
        if rows < CHUNK_ROWS and k < len(todo) - 1:
            continue
        area_list = [a for fb in batch for a in feeders[fb]]
        engine.register_table("ll_mapping_batch", pa.table({"area_no": pa.array(area_list, pa.int32())}))
        cust = _numpy(ask(engine, CUST_SQL, {"d_from": start}))
        feeder_of = np.zeros(max(area_list) + 1, dtype=np.int64)
        for fb in batch:
            feeder_of[list(feeders[fb])] = fb
        fcol = feeder_of[cust["area_no"]]
        order = np.argsort(fcol, kind="stable")
        cust = {c: v[order] for c, v in cust.items()}
        fcol = fcol[order]
        cuts = np.searchsorted(fcol, batch, side="left")
        ends = np.searchsorted(fcol, batch, side="right")
        for fb, lo, hi in zip(batch, cuts, ends, strict=True):
            part = {c: v[lo:hi] for c, v in cust.items()}
            found.extend(_feeder(feeders[fb], part, days, settings, weekday))
        batch, rows = [], 0
    nodes = ask(engine, "SELECT node_no, node_id FROM ll_nodes")
    names = dict(zip(nodes.column("node_no").to_pylist(), nodes.column("node_id").to_pylist(), strict=True))
    cnames = {}
    if found:
        engine.register_table("ll_found_no", pa.table({"cust_no": pa.array([r["cust_no"] for r in found], pa.int32())}))
        got = ask(
            engine,
            "SELECT DISTINCT k.cust_no, k.customer_id FROM ll_meter_map k JOIN ll_found_no f ON f.cust_no = k.cust_no",
        )
        cnames = dict(zip(got.column("cust_no").to_pylist(), got.column("customer_id").to_pylist(), strict=True))
    out = [
        {"customer_id": cnames[r["cust_no"]], "recorded_area": names[r["recorded_no"]],
         "likely_area": names[r["likely_no"]], **{k: r[k] for k in SCHEMA.names[3:]}}
        for r in found
    ]  # fmt: skip
    out.sort(key=lambda r: r["customer_id"])
    return pa.Table.from_pylist(out, schema=SCHEMA)
