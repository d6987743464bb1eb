"""No committed text file keeps a merge-conflict marker (one was once left in BENCHMARKS.md by a merge)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".sql", ".toml", ".html", ".css", ".js", ".json", ".cfg"}
FOLDERS = ("src", "tests", "bench", "docs", ".ci")


def _text_files() -> list[Path]:
    files = [p for p in ROOT.glob("*") if p.is_file() and p.suffix in SUFFIXES]
    for folder in FOLDERS:
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return files


def test_no_file_keeps_a_merge_conflict_marker():
    files = _text_files()
    assert any(p.name == "BENCHMARKS.md" for p in files)  # the scan reaches the files merges touch
    bad = [
        f"{p.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
        for p in files
        for text in [p.read_text(encoding="utf-8", errors="replace")]
        for m in MARKER.finditer(text)
    ]
    assert not bad, bad
