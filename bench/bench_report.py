"""Write a result block into BENCHMARKS.md under ``## Issue 6 — theft risk`` (between marker comments)."""

from __future__ import annotations

from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Issue 6 — theft risk"


def replace_block(name: str, body: str, section: str = SECTION) -> None:
    """Replace (or add) the block ``name`` inside ``section`` of BENCHMARKS.md (default the issue-6 one)."""
    text = BENCH.read_text("utf-8") if BENCH.exists() else "# Benchmarks\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    elif section in text:
        head, rest = text.split(section, 1)
        nxt = rest.find("\n## ")
        if nxt == -1:
            text = head + section + rest.rstrip() + "\n\n" + block + "\n"
        else:
            text = head + section + rest[:nxt].rstrip() + "\n\n" + block + "\n" + rest[nxt:]
    else:
        text = text.rstrip() + f"\n\n{section}\n\n{block}\n"
    BENCH.write_text(text, "utf-8")
