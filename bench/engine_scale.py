"""Issue 18: the rule catalog, line loss and risk scoring per engine and size, as ratios to one full scan.

For every dataset given (``--data LABEL=DATASET``, smallest first) and every engine given (``duckdb``,
``spark-local``: Spark ``local[N]``; ``spark-cluster``: a real standalone master and workers started here from
the pyspark install by tests/engines/spark_cluster.py), one child process opens the engine and times, in order:

* ``scan``     one full scan: every column of every table hashed (bench/rules_bench.py ``full_scan_seconds``),
               run twice, the faster is the baseline of the ratios (the first also warms the file cache);
* ``catalog``  the whole rule catalog through ``run_rules`` (as ``gridaudit rules run`` does), with each rule's
               and derived table's CPU seconds (``rule_cpu_s``; the 15 costliest in ``costliest_cpu``);
* ``loss``     ``run_loss`` over the whole data span (the 12 months, as ``gridaudit loss`` without a window);
* ``risk``     features + scoring (``gridaudit risk score``) with one model trained once (``--model``, else
               ``risk train`` on DuckDB on the first dataset, timed as phase ``train``).

Each phase's line records seconds, × the scan, the peak resident memory of the child's process tree (driver and,
on Spark, its JVM) during the phase, on the cluster also the workers' and executors', and the load average. A
phase has ``--budget-s`` seconds: past it the child's process group is ended, the phase is recorded as "did not
finish within N s" and a fresh child goes on with the next phases (scanning again for its own baseline). Lines
are appended to ``--out`` (JSON lines) as they come, so an interrupted run still counts; ``--report`` turns a
file into Markdown tables with the growth exponents (cost ∝ customers^b) between sizes.

    PYTHONPATH=src nice -n 5 python bench/engine_scale.py --data 100k=/work/data/synth-100k/dataset \
        --engines duckdb,spark-local,spark-cluster --budget-s 1800 --out bench/results/engine_scale.jsonl
    PYTHONPATH=src python bench/engine_scale.py --report bench/results/engine_scale.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # rules_bench
sys.path.insert(0, str(ROOT))  # tests.engines.spark_cluster

ENGINES = ("duckdb", "spark-local", "spark-cluster")
PHASES = ("catalog", "loss", "risk")
MARK = "@@engine_scale "  # prefix of a result line on the child's stdout (Spark may print there too)
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
TICKS = os.sysconf("SC_CLK_TCK")
# a cluster on the loopback: the driver binds 127.0.0.1 (the executors call back to it)
CLUSTER_CONF = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


# --- memory of a process tree (/proc; no third-party library) ---------------------------------------------


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, for every process visible in /proc."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree_stats(roots: list[int]) -> tuple[float, float]:
    """Resident memory (MB) and CPU seconds so far (user + system, all threads) of the processes ``roots`` and
    all their descendants, right now (the CPU of descendants that already ended is not counted)."""
    kids, seen, stack, pages, ticks = _children(), set(), list(roots), 0, 0
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as f:
                pages += int(f.read().split()[1])
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(kids.get(pid, []))
    return pages * PAGE_MB, ticks / TICKS


def tree_rss_mb(roots: list[int]) -> float:
    """Resident memory (MB) of the processes ``roots`` and all their descendants, right now."""
    return tree_stats(roots)[0]


class PeakSampler(threading.Thread):
    """Samples the resident memory of process trees every ``every_s``; :meth:`take` gives the peak since the
    last call (one value per group of roots)."""

    def __init__(self, groups: dict[str, list[int]], every_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.groups, self.every_s = groups, every_s
        self.peaks = dict.fromkeys(groups, 0.0)
        self.lock = threading.Lock()
        self.cpu: dict[str, float] = {}

    def run(self) -> None:
        """Sample until the process exits."""
        while True:
            for name, roots in self.groups.items():
                rss = tree_rss_mb(roots)
                with self.lock:
                    self.peaks[name] = max(self.peaks[name], rss)
            time.sleep(self.every_s)

    def take(self) -> dict[str, float]:
        """The peak memory of each group since the last call, in MB (sampled once more now), and the CPU
        seconds each group used since then (``cpu_s``, ``cluster_cpu_s``); start again."""
        now = {name: tree_stats(roots) for name, roots in self.groups.items()}
        with self.lock:
            out: dict[str, float] = {name: round(max(self.peaks[name], now[name][0])) for name in self.groups}
            self.peaks = dict.fromkeys(self.groups, 0.0)
        for name, (_, cpu) in now.items():
            key = name.replace("peak_mb", "cpu_s")
            out[key] = round(cpu - self.cpu.get(name, 0.0), 2)
            self.cpu[name] = cpu
        return out


# --- the child: one engine over one dataset ----------------------------------------------------------------


def engine_settings(engine: str, master: str | None, memory_limit: str, threads: int, conf: dict[str, str]) -> Any:
    """The :class:`~gridaudit.engines.EngineSettings` of one bench engine name."""
    from gridaudit.engines import EngineSettings

    if engine == "duckdb":
        return EngineSettings(memory_limit=memory_limit, threads=threads)
    if engine == "spark-local":
        return EngineSettings(
            kind="spark", spark_master="local[*]", memory_limit=memory_limit, threads=threads, spark_conf=conf
        )
    return EngineSettings(
        kind="spark",
        spark_master=master or "",
        memory_limit=memory_limit,
        threads=threads,
        spark_conf={**CLUSTER_CONF, **conf},
    )


def total_cpu(record: dict[str, Any]) -> float:
    """CPU seconds of a phase in the driver's process tree and, on the cluster, the workers' and executors'."""
    return float(record.get("cpu_s", 0.0)) + float(record.get("cluster_cpu_s", 0.0))


def emit(record: dict[str, Any]) -> None:
    """One result line to the parent."""
    print(MARK + json.dumps(record, default=str), flush=True)


def progress_to_parent(total: int) -> Any:
    """A ``run_rules`` progress callback telling the parent how far the catalog got (for a budget line)."""
    done = [0]

    def tick(rule: Any, report: Any) -> None:
        done[0] += 1
        emit({"progress": f"{done[0]} of {total} rules done (last {rule.id}, {report.seconds:.0f} s)"})

    return tick


def child(args: argparse.Namespace) -> None:
    """Open the engine, scan, then run each phase asked; one line per phase (seconds, × scan, memory)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine
    from rules_bench import full_scan_seconds

    try:  # on a shared machine out of memory, the kernel ends this bench (and its JVM) before anyone else's work
        Path("/proc/self/oom_score_adj").write_text("1000")
    except OSError:
        pass
    groups = {"peak_mb": [os.getpid()]}
    if args.cluster_pids:
        groups["cluster_peak_mb"] = [int(p) for p in args.cluster_pids.split(",")]
    sampler = PeakSampler(groups)
    sampler.start()
    ds = open_dataset(args.dataset)
    conf = dict(item.split("=", 1) for item in args.spark_conf)
    settings = engine_settings(args.engine, args.master, args.memory_limit, args.threads, conf)

    def line(phase: str, seconds: float, started_load: float, **extra: Any) -> dict[str, Any]:
        rec = {"phase": phase, "status": "ok", "seconds": round(seconds, 4), **sampler.take()}
        rec.update(load_start=round(started_load, 2), load_end=round(os.getloadavg()[0], 2), **extra)
        return rec

    if args.phases == ["train"]:
        from gridaudit.risk.pipeline import train

        load, t0 = os.getloadavg()[0], time.perf_counter()
        result = train(ds.root, args.model, engine=settings)
        emit(
            line(
                "train",
                time.perf_counter() - t0,
                load,
                labels=result.meta["labels"]["rows"],
                model_kind=result.meta.get("model_kind"),
            )
        )
        return
    load, t0 = os.getloadavg()[0], time.perf_counter()
    eng = open_engine(ds, settings)
    emit(line("open", time.perf_counter() - t0, load))
    load = os.getloadavg()[0]
    runs = [full_scan_seconds(eng, ds), full_scan_seconds(eng, ds)]
    scan = min(runs)
    scan_rec = line("scan", scan, load, runs=[round(r, 4) for r in runs])
    scan_cpu = total_cpu(scan_rec) / 2  # CPU of one of the two scans (driver, JVM and executors)
    emit({**scan_rec, "cpu_one_scan_s": round(scan_cpu, 2)})
    for phase in args.phases:
        load, t0 = os.getloadavg()[0], time.perf_counter()
        extra: dict[str, Any] = {}
        if phase == "catalog":
            from gridaudit.rules import load_catalog
            from gridaudit.rules.runner import RuleReport, run_rules

            derived: list[RuleReport] = []
            rules = load_catalog()
            findings, reports = run_rules(eng, rules, derived_log=derived, progress=progress_to_parent(len(rules)))
            slow = sorted(reports + derived, key=lambda r: -r.seconds)[:5]
            costly = sorted(reports + derived, key=lambda r: -r.cpu_seconds)[:15]
            extra = {
                "findings": findings.num_rows,
                "rules": len(reports),
                "errors": [r.rule_id for r in reports if r.status == "error"],
                "skipped": sum(r.status == "skipped" for r in reports),
                "derived_s": round(sum(d.seconds for d in derived), 1),
                "slowest": [[r.rule_id, round(r.seconds, 1)] for r in slow],
                "derived_cpu_s": round(sum(d.cpu_seconds for d in derived), 1),
                "costliest_cpu": [[r.rule_id, round(r.cpu_seconds, 1), round(r.seconds, 1)] for r in costly],
                "rule_cpu_s": {r.rule_id: round(r.cpu_seconds, 2) for r in reports + derived},
            }
        elif phase == "loss":
            from gridaudit.lineloss.run import run_loss

            res = run_loss(ds, engine=eng)
            extra = {"findings": res.findings.num_rows, "monthly_rows": res.balance.monthly.num_rows}
        elif phase == "risk":  # opens its own engine on the same settings (Spark: the same session)
            from gridaudit.risk.pipeline import score

            eng.close()  # its views share the Spark session's names; DuckDB's memory is freed
            scored = score(ds.root, args.model, engine=settings)
            extra = {"rows": len(scored)}
        seconds = time.perf_counter() - t0
        rec = line(phase, seconds, load, x_scan=round(seconds / scan, 3), **extra)
        rec["x_scan_cpu"] = round(total_cpu(rec) / max(scan_cpu, 1e-3), 2)
        emit(rec)
    if "risk" not in args.phases:
        eng.close()


# --- the parent: datasets × engines, budgets, the cluster ---------------------------------------------------


class Runner:
    """Runs the children, enforces the budgets and appends their lines (with the run's context) to ``out``."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.cluster: Any = None
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
        self.context = {
            "run": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": commit,
            "cores": os.cpu_count(),
            "threads": args.threads,
            "memory_limit": args.memory_limit,
        }

    def write(self, record: dict[str, Any]) -> None:
        """Append one line to the results file (and show it)."""
        record = {**self.context, **record}
        with open(self.args.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, default=str) + "\n")
        print(json.dumps(record, default=str), flush=True)

    def env(self) -> dict[str, str]:
        """The child's environment: this checkout first on PYTHONPATH; Spark on the loopback."""
        from tests.engines.spark_cluster import spark_env

        env = spark_env(self.work)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT / "bench"), env.get("PYTHONPATH", "")])
        return env

    def start_cluster(self) -> None:
        """A standalone master and ``--workers`` workers (``--worker-cores`` each) on 127.0.0.1."""
        from tests.engines import spark_cluster

        spark_cluster.WORKER_MEMORY = self.args.worker_memory  # read when the workers start
        self.cluster = spark_cluster.SparkCluster(self.work / "cluster")
        (self.work / "cluster").mkdir()
        self.cluster.start(workers=self.args.workers, cores=self.args.worker_cores)

    def stop_cluster(self) -> None:
        """Stop the cluster (raises if a Spark process is left)."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None

    def run(self, label: str, dataset: Path, engine: str, phases: list[str], model: Path) -> None:
        """All ``phases`` of one engine × dataset, each within the budget; a child per attempt."""
        from gridaudit.dataset import open_dataset

        ds = open_dataset(dataset)
        where = {
            "size": label,
            "customers": ds.rows("customers"),
            "daily_rows": ds.rows("daily_usage"),
            "engine": engine,
        }
        if engine == "spark-cluster" and self.cluster is None:
            self.start_cluster()
        left = list(phases)
        while left:
            done = self.attempt(where, dataset, engine, left, model)
            if done is None:  # the engine did not open or scan: the rest cannot be measured
                for phase in left:
                    self.write({**where, "phase": phase, "status": "not run", "message": "no baseline scan"})
                return
            left = left[done:]

    def attempt(self, where: dict[str, Any], dataset: Path, engine: str, phases: list[str], model: Path) -> int | None:
        """One child for ``phases``; returns how many of them are finished (ok, over budget or failed), or None
        when the child did not get past its scan."""
        from tests.engines.spark_cluster import _end_group

        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--engine",
            engine,
            "--dataset",
            str(dataset),
            "--phases",
            ",".join(phases),
            "--model",
            str(model),
            "--memory-limit",
            self.args.memory_limit,
            "--threads",
            str(self.args.threads),
        ]
        cmd += [a for item in self.args.spark_conf for a in ("--spark-conf", item)]
        if self.cluster is not None and engine == "spark-cluster":
            cmd += ["--master", self.cluster.master_url]
            cmd += ["--cluster-pids", ",".join(str(p.pid) for p in self.cluster.processes)]
        log = self.work / f"{where['size']}-{engine}-{len(phases)}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, env=self.env(), text=True, start_new_session=True
            )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(proc, lines), daemon=True).start()
        expected = ["train"] if phases == ["train"] else ["open", "scan", *phases]
        finished, budget = 0, self.args.budget_s
        progress: dict[str, Any] = {}
        deadline = time.monotonic() + budget
        try:
            while finished < len(expected):
                try:
                    text = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
                except queue.Empty:
                    self.write(
                        {
                            **where,
                            "phase": expected[finished],
                            "status": "budget",
                            "message": f"did not finish within {budget:g} s",
                            **progress,
                        }
                    )
                    finished += 1
                    break
                if text is None:  # the child ended before this phase's line
                    tail = log.read_text(errors="replace")[-1500:]
                    self.write(
                        {
                            **where,
                            "phase": expected[finished],
                            "status": "error",
                            "message": f"exit {proc.wait()}: {tail}",
                        }
                    )
                    finished += 1
                    break
                rec = json.loads(text)
                if "progress" in rec:  # not a phase: kept for a budget line
                    progress = rec
                    continue
                self.write({**where, **rec})
                progress = {}
                finished += 1
                deadline = time.monotonic() + budget
        finally:
            _end_group(proc, grace_s=10)
        extra = len(expected) - len(phases)  # open and scan
        return None if finished <= extra and phases != ["train"] else max(finished - extra, 1)


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Forward the child's result lines, then None at its end."""
    assert proc.stdout is not None
    for text in proc.stdout:
        if text.startswith(MARK):
            lines.put(text[len(MARK) :].strip())
    lines.put(None)


def main() -> None:
    """Parse the options; run the child, the report, or the whole bench."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", default=[], help="LABEL=DATASET (repeat, smallest first)")
    ap.add_argument("--engines", default="duckdb", help=f"comma-separated, of {', '.join(ENGINES)}")
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    ap.add_argument("--budget-s", type=float, default=1800, help="seconds per phase of one engine × size")
    ap.add_argument("--out", type=Path, default=Path("engine_scale.jsonl"), help="JSON lines, appended")
    ap.add_argument("--model", type=Path, help="risk model to score with; trained on the first dataset when missing")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit; Spark driver (local) / executors")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads; Spark local[N] or spark.cores.max")
    ap.add_argument("--workers", type=int, default=2, help="spark-cluster: workers")
    ap.add_argument("--worker-cores", type=int, default=1, help="spark-cluster: cores per worker")
    ap.add_argument("--worker-memory", default="4608m", help="spark-cluster: memory per worker (holds an executor)")
    ap.add_argument("--spark-conf", action="append", default=[], help="extra Spark setting KEY=VALUE (repeat)")
    ap.add_argument("--report", type=Path, help="print the Markdown tables of a results file and exit")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--master", help=argparse.SUPPRESS)
    ap.add_argument("--cluster-pids", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.phases = [p for p in args.phases.split(",") if p]
    if args.report:
        from engine_scale_report import report

        print(report(args.report))
        return
    if args.child:
        child(args)
        return
    engines = [e for e in args.engines.split(",") if e]
    bad = [e for e in engines if e not in ENGINES] + [p for p in args.phases if p not in PHASES]
    if bad or not args.data or any("=" not in d for d in args.data):
        sys.exit(f"unknown engine or phase {bad}, or no --data LABEL=DATASET given")
    data = [(d.split("=", 1)[0], Path(d.split("=", 1)[1])) for d in args.data]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="engine_scale_") as tmp:
        runner = Runner(args, Path(tmp))
        model = args.model or Path(tmp) / "risk.model"
        try:
            if "risk" in args.phases and not model.exists():
                runner.run(data[0][0], data[0][1], "duckdb", ["train"], model)
            for label, dataset in data:
                for engine in engines:
                    runner.run(label, dataset, engine, args.phases, model)
        finally:
            runner.stop_cluster()


if __name__ == "__main__":
    main()
