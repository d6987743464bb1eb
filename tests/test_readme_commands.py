"""The README's two first commands: the demo installs only what it needs; the tests' command is CI's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _first_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block, "README starts with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_demo_command_installs_no_extras():
    demo, tests = _first_commands()[:2]
    assert demo == "pip install -e . && gridaudit demo"
    deps = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]).lower()
    for tool in ("pyspark", "pytest", "ruff", "mypy", "hypothesis"):
        assert tool not in deps, f"{tool} is a base dependency: the demo install would pull it in"
    assert "[dev,spark]" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    install, run = (part.strip() for part in _first_commands()[1].split("&&"))
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert run in ci, f"{run!r} is not a line of .ci/run"
    extras = re.search(r"\[([a-z,]+)\]", install).group(1)
    assert any(f"[{extras}]" in line and "pip install" in line for line in ci)
    assert ci.index("mypy src") < ci.index(run), "mypy runs before the tests"
