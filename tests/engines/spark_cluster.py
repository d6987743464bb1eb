"""A real Spark standalone cluster on 127.0.0.1 for the tests: one master and N workers from the pyspark install.

pyspark ships ``bin/spark-class``; the master and each worker run as their own process group (so a worker's
executors go with it), on free ports, with their logs and work folders in one temporary folder. ``stop`` ends
the groups (TERM, then KILL) and raises if any process is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_S = 240  # JVM start-up on a loaded 2-core machine
WORKER_MEMORY = "768m"  # holds one 512m executor (Spark's minimum is 450m)
DAEMON_MEMORY = "256m"  # the master's and workers' own heap
REPO_SRC = str(Path(__file__).resolve().parents[2] / "src")  # a CLI subprocess imports this checkout


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    """The pyspark installation, which holds ``bin/spark-class`` and the jars."""
    import pyspark

    return Path(pyspark.__file__).parent


def spark_env(work: Path) -> dict[str, str]:
    """Environment for the daemons and the driver: loopback only, this interpreter for Python workers."""
    env = dict(os.environ)
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOCAL_DIRS": str(work / "local"),
            "SPARK_LOG_DIR": str(work / "logs"),
            "SPARK_DAEMON_MEMORY": DAEMON_MEMORY,
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",  # else it binds port 6066
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
        }
    )
    return env


@dataclass
class SparkCluster:
    """A running standalone cluster: its master URL, the master's web UI and the daemon processes."""

    work: Path
    master_url: str = ""
    web_url: str = ""
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def state(self) -> dict:
        """The master's JSON status (workers, applications)."""
        with urllib.request.urlopen(self.web_url + "/json/", timeout=5) as response:
            return json.loads(response.read())

    def worker_dirs(self) -> list[Path]:
        """Each worker's work folder (one ``app-…/<executor>/`` folder per executor it ran)."""
        return sorted(p for p in self.work.glob("worker*") if p.is_dir())

    def logs(self) -> str:
        """The tail of every daemon log (for a failure message)."""
        parts = []
        for log in sorted(self.work.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {log.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until stop()
        cmd = [str(spark_home() / "bin" / "spark-class"), *args]
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=spark_env(self.work), start_new_session=True
        )
        log.close()
        self.processes.append(proc)

    def start(self, workers: int = 2, cores: int = 1) -> None:
        """Start the master and ``workers`` workers; return when all are registered (or raise with the logs)."""
        (self.work / "local").mkdir(parents=True, exist_ok=True)
        port, web = free_port(), free_port()
        self.master_url, self.web_url = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web}"
        master = "org.apache.spark.deploy.master.Master"
        self._spawn("master", [master, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web)])
        for i in range(1, workers + 1):
            folder = self.work / f"worker{i}"
            folder.mkdir()
            args = ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", str(cores)]
            args += ["--memory", WORKER_MEMORY, "--webui-port", str(free_port()), "--work-dir", str(folder)]
            self._spawn(f"worker{i}", [*args, self.master_url])
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            dead = [p.args for p in self.processes if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a Spark daemon exited during start-up: {dead}\n{self.logs()}")
            try:
                if self.state().get("aliveworkers", 0) >= workers:
                    return
            except OSError:
                pass  # the web UI is not up yet
            time.sleep(1)
        raise RuntimeError(f"{workers} Spark workers did not register within {START_TIMEOUT_S} s\n{self.logs()}")

    def stop(self) -> None:
        """End every daemon's process group (executors included); raise if a process survives."""
        for proc in self.processes:
            _end_group(proc)
        left = [p.pid for p in self.processes if _group_alive(p.pid)]
        self.processes.clear()
        if left:
            raise RuntimeError(f"Spark process groups still alive after stop: {left}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (``timeout``, a CI runner) into KeyboardInterrupt while the cluster is up, so the ``finally``
    blocks that end the Spark daemons and a CLI's process group run; the daemons and the CLIs run in their own
    sessions, and without this they outlive a killed pytest."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _end_group(proc: subprocess.Popen, grace_s: float = 20) -> None:
    """TERM the process group led by ``proc``, then KILL what is left after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(proc.pid):
            proc.poll()  # reaps the leader
            time.sleep(0.2)
        if not _group_alive(proc.pid):
            break
    proc.poll()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_in_group(cmd: list[str], env: dict[str, str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` in its own process group (a Spark driver starts a JVM below it) and end the group after."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _end_group(proc)
        out, _ = proc.communicate()
        raise AssertionError(f"{cmd[:6]} did not finish within {timeout_s} s:\n{out[-4000:]}") from None
    finally:
        if _group_alive(proc.pid):
            _end_group(proc)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")
