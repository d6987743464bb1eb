"""Issue 17: mapping errors, intermittent theft and capacity overuse on the synthetic utility, before and after.

    PYTHONPATH=src nice -n 10 python bench/detect_issue17.py --work /tmp/i17 [--sizes 5000 20000] \
        [--base-commit e96d847] [--write BENCHMARKS.md]

In one run:
* synth at each size twice, seed 42, 12 months: mis-mapped customers drawn uniformly (as before,
  ``mapping_error_energy_power=0``) and by energy (the new default);
* visibility of each injected mapping error in principle: regress the true area's daily loss (AMI gaps filled)
  on the customer's daily use, both high-passed, controlling for the area's supply, knowing the true area; the t of
  the customer's coefficient (an oracle no detector can beat by much);
* mapping recall/precision of ``run_loss`` with the settings before this branch (``fill_gaps`` off, one round,
  ``min_t`` 7, no two-sided test) and now (the defaults);
* the whole rule catalog at the largest size on the energy-weighted synth: the catalog at ``--base-commit``
  (exported with ``git archive``) against the working tree's, per truth kind (bench/rules_quality.py).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from gridaudit.lineloss import mapping as lm  # noqa: E402
from gridaudit.lineloss.balance import run_balance  # noqa: E402
from gridaudit.lineloss.inputs import data_span, open_inputs  # noqa: E402
from gridaudit.lineloss.run import resolve_window, run_loss  # noqa: E402
from gridaudit.lineloss.settings import LossSettings, Mapping  # noqa: E402
from gridaudit.rules import load_catalog  # noqa: E402
from gridaudit.rules.runner import DuckDBSettings, duckdb_engine, run_rules  # noqa: E402
from gridaudit.synth.config import Model, SynthConfig  # noqa: E402
from gridaudit.synth.generate import generate  # noqa: E402
from rules_bench import as_dataset  # noqa: E402
from rules_quality import load_truth, score  # noqa: E402

OLD_MAPPING = dataclasses.replace(Mapping(), fill_gaps=False, rounds=1, min_t=7.0, min_pair_t=-1e9)
KINDS = ("theft_intermittent", "contract_capacity_overuse")


def mapping_truth(path: Path) -> dict[str, dict]:
    """Injected mapping errors: customer → {true_area_id, recorded_area_id}."""
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "data_mapping_error"]
    return {r["entity_id"]: json.loads(r["detail"]) for r in rows}


@dataclasses.dataclass
class OracleInputs:
    """What the oracles read after the balance: each area's supply and loss per day (``areas``, lineloss.mapping's
    AREA_SQL), and each area customer's use per day as a matrix ``use`` (NaN: no reading) with its recorded area."""

    days: int
    day_types: np.ndarray
    areas: dict[str, np.ndarray]
    area_no: dict[str, int]  # area id → node number
    ids: np.ndarray  # customer ids, the rows of ``use``
    use: np.ndarray
    own: np.ndarray  # each row's recorded area number
    category: dict[str, str]

    @property
    def row(self) -> dict[str, int]:
        """Customer id → row of ``use``."""
        return {c: i for i, c in enumerate(self.ids)}


def oracle_inputs(ds: Path, settings: LossSettings) -> OracleInputs:
    """Run the balance over the dataset's whole span and read its DuckDB stages directly (a bench, not an analyzer)."""
    inp = open_inputs(ds, threads=2)
    con = inp.engine.con
    w = resolve_window(data_span(inp))
    run_balance(inp.engine, w, settings)
    days = len(w.days())
    areas = con.sql(lm.AREA_SQL, params={"d_from": w.start}).fetchnumpy()
    area_no = dict(con.execute("SELECT node_id, node_no FROM ll_nodes WHERE node_kind = 'area_sales'").fetchall())
    category = dict(con.execute("SELECT customer_id, category FROM customers").fetchall())
    cd = con.sql(
        "SELECT mm.customer_id, mm.node_no AS area_no, CAST(d.day - CAST($d AS DATE) AS INTEGER) AS di, "
        "SUM(d.kwh * mm.multiplier) AS use FROM daily_usage d JOIN ll_meter_map mm ON mm.meter_id = d.meter_id "
        "WHERE mm.node_kind = 'area_sales' GROUP BY ALL",
        params={"d": w.start},
    ).fetchnumpy()
    con.close()
    ids, inv = np.unique(cd["customer_id"], return_inverse=True)
    use = np.full((len(ids), days), np.nan)
    use[inv, cd["di"]] = cd["use"]
    own = np.zeros(len(ids), dtype=np.int64)
    own[inv] = cd["area_no"]
    return OracleInputs(days, lm.day_types(w.start, days), areas, area_no, ids, use, own, category)


def t_last(y: np.ndarray, x: np.ndarray) -> float:
    """t statistic of the last column of ``x`` in the least-squares fit of ``y``."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    res = y - x @ coef
    cov = np.linalg.pinv(x.T @ x) * (res @ res / max(len(y) - x.shape[1], 1))
    return float(coef[-1] / np.sqrt(max(cov[-1, -1], 1e-300)))


def oracle_t(ds: Path, truth: dict[str, dict]) -> dict[str, tuple[float, float]]:
    """Per injected error: (customer's mean kWh/day, t of its use in its true area's loss given that area's supply)."""
    s = LossSettings()
    o = oracle_inputs(ds, s)
    days, wd, a, names, u, own = o.days, o.day_types, o.areas, o.area_no, o.use, o.own
    mean = np.nan_to_num(np.nanmean(np.where(np.isnan(u).all(1)[:, None], 0.0, u), axis=1))
    uf = np.where(np.isnan(u), mean[:, None], u)
    pos = o.row

    def hp(x: np.ndarray) -> np.ndarray:
        return lm.high_pass(x, wd, s.mapping.high_pass_days)[0]

    out = {}
    for c, d in truth.items():
        if c not in pos:
            out[c] = (0.0, 0.0)
            continue
        ta = names[d["true_area_id"]]
        k = a["area_no"] == ta
        sup = np.full(days, np.nan)
        sup[a["di"][k]] = a["supply"][k]
        loss = sup - uf[own == ta].sum(0)
        x, sh, lh = hp(uf[pos[c]]), hp(sup), hp(loss)
        ok = ~np.isnan(sh) & ~np.isnan(lh)
        out[c] = (float(mean[pos[c]]), t_last(lh[ok], np.column_stack([np.ones(ok.sum()), sh[ok], x[ok]])))
    return out


def mapping_quality(ds: Path, truth: dict[str, dict], settings: LossSettings) -> dict:
    """Recall (right customer and true area), precision, findings; explained negative/high areas; seconds."""
    t0 = time.perf_counter()
    res = run_loss(ds, settings=settings, threads=2)
    secs = time.perf_counter() - t0
    found = {m["customer_id"]: m for m in res.mapping.to_pylist()}
    right = sum(1 for c, d in truth.items() if c in found and found[c]["likely_area"] == d["true_area_id"])
    expl = {"negative": [0, 0], "high": [0, 0], "extreme": [0, 0]}
    for f in res.findings.to_pylist():
        band = f["rule_id"].removeprefix("loss_area_")
        if band in expl:
            ev = json.loads(f["evidence"])
            if ev.get("mapping_findings"):
                expl[band][0] += 1
                expl[band][1] += bool(ev.get("explained_by_mapping"))
    return {
        "recall": right / max(len(truth), 1),
        "precision": sum(1 for c in found if c in truth) / max(len(found), 1),
        "findings": len(found),
        "area_months": expl,
        "seconds": secs,
    }


def export_catalog(commit: str, dest: Path) -> Path:
    """The rule catalog folder as it was at ``commit`` (git archive), for the 'before' run."""
    repo = Path(__file__).resolve().parent.parent
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", commit, "src/gridaudit/rules/catalog"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src/gridaudit/rules/catalog"


def rules_quality(ds: Path, truth_path: Path, catalog: Path | None) -> tuple[list[dict], list[dict], float]:
    """Whole catalog (the built-in one, or ``catalog`` alone) scored per kind and per rule; seconds."""
    rules = load_catalog([catalog], builtin=False) if catalog else load_catalog()
    eng = duckdb_engine(as_ds(ds), DuckDBSettings(threads=2))
    t0 = time.perf_counter()
    findings, _ = run_rules(eng, rules)
    secs = time.perf_counter() - t0
    eng.close()
    per_kind, per_rule = score(findings, rules, load_truth(truth_path))
    return per_kind, per_rule, secs


def as_ds(root: Path):  # noqa: ANN201
    """The dataset at ``root``."""
    from gridaudit.dataset import open_dataset

    return open_dataset(root)


def fmt(v: float | None) -> str:
    """Three decimals, or a dash."""
    return "–" if v is None else f"{v:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--sizes", type=int, nargs="*", default=[5000, 20000])
    ap.add_argument("--base-commit", default="e96d847")
    ap.add_argument("--write", type=Path)
    a = ap.parse_args()
    lines: list[str] = []
    map_rows = []
    vis_rows = []
    for n in a.sizes:
        for power in (0.0, 1.0):
            tag = f"n{n}-p{power:g}"
            src = a.work / tag / "source"
            if not (src / "truth.csv").exists():
                model = Model(mapping_error_energy_power=power)
                generate(SynthConfig(customers=n, months=12, seed=42, model=model), src)
            ds_root = a.work / tag / "ds"
            if not (ds_root / "CURRENT").exists():
                as_dataset(src, ds_root)
            truth = mapping_truth(src / "truth.csv")
            orc = oracle_t(ds_root, truth)
            ts = np.array([t for _, t in orc.values()])
            kwh = np.array([k for k, _ in orc.values()])
            vis_rows.append(
                f"| {n:,} | {'energy' if power else 'uniform'} | {len(truth)} | {np.median(kwh):.1f} | "
                f"{int((ts >= 7).sum())} | {int((ts >= 4).sum())} |"
            )
            for label, m in (("before", OLD_MAPPING), ("after", Mapping())):
                q = mapping_quality(ds_root, truth, LossSettings(mapping=m))
                e = q["area_months"]
                map_rows.append(
                    f"| {n:,} | {'energy' if power else 'uniform'} | {label} | {len(truth)} | {q['findings']} | "
                    f"{fmt(q['recall'])} | {fmt(q['precision'])} | {e['negative'][1]}/{e['negative'][0]} | "
                    f"{e['high'][1] + e['extreme'][1]}/{e['high'][0] + e['extreme'][0]} | {q['seconds']:.1f} |"
                )
                print(map_rows[-1], flush=True)
    lines += [
        "Visibility of the injected mapping errors in principle (oracle: the true area known, its loss with AMI gaps",
        "filled, regressed on the customer's high-passed daily use given the area's supply; t of the customer):",
        "",
        "| customers | mis-mapped drawn | errors | median kWh/day | oracle t ≥ 7 | oracle t ≥ 4 |",
        "|---:|---|---:|---:|---:|---:|",
        *vis_rows,
        "",
        "Mapping findings (`loss_mapping_error`), before = the settings before this branch, after = the defaults;",
        "area-months = area findings with mapping evidence that it explains / that name a mapping finding:",
        "",
        "| customers | mis-mapped drawn | settings | errors | findings | recall | precision | negative area-months "
        "explained | high/extreme area-months explained | run_loss s |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *map_rows,
        "",
    ]
    n = max(a.sizes)
    tag = f"n{n}-p1"
    base = export_catalog(a.base_commit, a.work / "base-catalog")
    before = rules_quality(a.work / tag / "ds", a.work / tag / "source" / "truth.csv", base)
    after = rules_quality(a.work / tag / "ds", a.work / tag / "source" / "truth.csv", None)
    kb = {k["kind"]: k for k in before[0]}
    lines += [
        f"Rule catalog on the {n:,}-customer synth (energy-weighted mapping errors), catalog at {a.base_commit} "
        f"({before[2]:.0f} s) and now ({after[2]:.0f} s), per truth kind:",
        "",
        "| truth kind | truth rows | recall before | recall after | findings before | findings after "
        "| precision before | precision after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in after[0]:
        b = kb.get(k["kind"], {})
        mark = "**" if k["kind"] in KINDS else ""
        lines.append(
            f"| {mark}{k['kind']}{mark} | {k['truth']} | {fmt(b.get('recall'))} | {fmt(k['recall'])} | "
            f"{b.get('findings', 0)} | {k['findings']} | {fmt(b.get('precision'))} | {fmt(k['precision'])} |"
        )
    rb = {r["rule"]: r for r in before[1]}
    lines += ["", "Rules changed on this branch:", "", "| rule | findings before | after | precision before | after |"]
    lines.append("|---|---:|---:|---:|---:|")
    for r in after[1]:
        b = rb.get(r["rule"], {})
        if b.get("findings") != r["findings"] or b.get("precision") != r["precision"]:
            lines.append(
                f"| {r['rule']} | {b.get('findings', 0)} | {r['findings']} | {fmt(b.get('precision'))} | "
                f"{fmt(r['precision'])} |"
            )
    text = "\n".join(lines)
    print(text)
    if a.write:
        head = "## Issue 17 — mapping errors, intermittent theft, capacity overuse"
        old = a.write.read_text("utf-8")
        a.write.write_text(old.rstrip("\n") + f"\n\n{head}\n\n<!-- bench-output -->\n{text}\n", "utf-8")


if __name__ == "__main__":
    main()
