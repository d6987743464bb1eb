"""Run the generator: shared parts once, then chunk after chunk into the writer (bounded memory)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from gridaudit.synth.chunk import Shared, generate_chunk
from gridaudit.synth.config import SynthConfig
from gridaudit.synth.tariffs import build_tariffs
from gridaudit.synth.timeaxis import WorkCalendar, build_time_axis
from gridaudit.synth.topology import build_topology
from gridaudit.synth.writer import TRUTH_FILE, TableWriter

PARAMS_FILE = "synth_params.json"


@dataclass
class SynthResult:
    """What a run wrote: folder, row counts per table, truth rows per kind, seconds taken."""

    out: Path
    rows: dict[str, int]
    truth: dict[str, int]
    seconds: float


def generate(cfg: SynthConfig, out: str | Path, progress: Callable[[int, int], None] | None = None) -> SynthResult:
    """Write every contract table and ``truth.csv`` for ``cfg`` into ``out``; ``progress(done, total)``
    is called after each chunk. Same configuration (seed included) → byte-identical files."""
    cfg.validate()
    t0 = time.perf_counter()
    out = Path(out)
    m = cfg.model
    rng = np.random.default_rng([cfg.seed, 0])
    ax = build_time_axis(cfg.start_date, cfg.months, rng, m.weather_sigma)
    topo = build_topology(rng, cfg.customers, cfg.chunk_customers, m)
    tb = build_tariffs(cfg.start_date, cfg.months)
    cal = WorkCalendar(ax.sim_start - timedelta(days=400), ax.end + timedelta(days=400))
    sh = Shared(cfg, ax, topo, tb, cal)
    writer = TableWriter(out, cfg.fmt)
    writer.write("units", topo.units)
    writer.write("feeders", topo.feeders)
    writer.write("areas", topo.areas)
    writer.write("staff", topo.staff)
    writer.write("tariffs", tb.table)
    kinds: dict[str, int] = {}
    for ci in range(len(topo.chunks)):
        tables, truth = generate_chunk(sh, ci)
        for name, cols in tables.items():
            for part in cols if isinstance(cols, list) else [cols]:
                writer.write(name, part)
        writer.write_truth(truth.columns())
        for r in truth.rows:
            kinds[r[0]] = kinds.get(r[0], 0) + 1
        del tables, truth
        if progress:
            progress(ci + 1, len(topo.chunks))
    rows = writer.close()
    params = {
        "customers": cfg.customers,
        "months": cfg.months,
        "start": cfg.start,
        "seed": cfg.seed,
        "format": cfg.fmt,
        "rates": asdict(cfg.rates),
        "model": asdict(cfg.model),
    }
    (out / PARAMS_FILE).write_text(json.dumps(params, indent=2, sort_keys=True) + "\n", "utf-8")
    return SynthResult(out, rows, dict(sorted(kinds.items())), time.perf_counter() - t0)


def source_files(out: str | Path) -> list[Path]:
    """The contract table files of a synth output folder (what to hand to ingest), without truth."""
    out = Path(out)
    return sorted(p for p in out.iterdir() if p.suffix in (".parquet", ".csv") and p.name != TRUTH_FILE)
