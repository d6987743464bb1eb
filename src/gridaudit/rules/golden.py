"""Golden fixture rows: compare whole finding rows with a fixture's ``expect``, and rewrite ``expect``.

An ``expect`` entry with only ``entity_id`` and ``period`` pins the finding's key (the old form, still valid).
An entry with any value field is a golden row and pins every value field (an absent one means null):
``score``, ``kwh_at_stake``, ``yuan_at_stake`` (floats, compared with a small tolerance),
``responsible_staff_id`` and ``evidence`` (a mapping, compared as JSON, floats again with a tolerance).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from gridaudit.i18n import msg

KEY_FIELDS = ("entity_id", "period")
VALUE_FIELDS = ("score", "kwh_at_stake", "yuan_at_stake", "responsible_staff_id", "evidence")
EXPECT_FIELDS = KEY_FIELDS + VALUE_FIELDS
REL_TOL = 1e-6
ABS_TOL = 1e-6


def row_key(entry: dict[str, Any]) -> tuple[str, str | None]:
    """The (entity_id, period) key of an expected entry or a finding row, as text."""
    per = entry.get("period")
    return str(entry["entity_id"]), None if per is None else str(per)


def key_text(key: tuple[str, str | None]) -> str:
    """A key as people read it: ``B1 2024-02`` (or just the entity when there is no period)."""
    return key[0] if key[1] is None else f"{key[0]} {key[1]}"


def is_golden(entry: dict[str, Any]) -> bool:
    """Whether an expected entry pins values (a golden row) rather than only the key."""
    return any(f in entry for f in VALUE_FIELDS)


def golden_row(finding: dict[str, Any]) -> dict[str, Any]:
    """The golden ``expect`` entry of a finding row (from the runner): key, values and evidence as a mapping."""
    out: dict[str, Any] = {"entity_id": finding["entity_id"], "period": finding["period"]}
    for f in VALUE_FIELDS:
        value = finding.get(f)
        out[f] = json.loads(value) if f == "evidence" and isinstance(value, str) else value
    return out


def _close(a: Any, b: Any) -> bool:
    """Equal as JSON values, floats (and ints against floats) within the tolerance."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _plain_evidence(value: Any) -> Any:
    """Expected evidence as JSON would give it back (YAML dates become ISO text, as the runner writes them)."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def compare(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    """Value differences between golden ``expected`` entries and the finding rows ``got`` with the same key."""
    by_key = {row_key(r): golden_row(r) for r in got}
    problems = []
    for entry in expected:
        if not is_golden(entry):
            continue
        key = row_key(entry)
        row = by_key.get(key)
        if row is None:
            continue  # a missing key is reported with the keys
        for f in VALUE_FIELDS:
            want = entry.get(f)
            if f == "evidence":
                want = _plain_evidence(want)
            elif f == "responsible_staff_id" and want is not None:
                want = str(want)
            if not _close(want, row[f]):
                problems.append(f"{key_text(key)} {f}: expected {_show(want)}, got {_show(row[f])}")
    return problems


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass
class FixtureChange:
    """What ``--update`` changed in one fixture file's ``expect``."""

    path: Any
    changed: bool
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Lines for the diff summary: the file, then each key added or removed and each value changed."""
        if not self.changed:
            return [msg(f"未变 {self.path}", f"unchanged {self.path}")]
        lines = [msg(f"已改写 {self.path}", f"updated {self.path}")]
        lines += [f"  + {k}" for k in self.added] + [f"  - {k}" for k in self.removed]
        lines += [f"  ~ {v}" for v in self.values]
        return lines


def render_expect(rows: list[dict[str, Any]]) -> str:
    """The ``expect:`` block for golden rows: one flow-style mapping per line, sorted by key."""
    if not rows:
        return "expect: []\n"
    lines = ["expect:"]
    for row in sorted(rows, key=lambda r: (r["entity_id"], r["period"] or "")):
        text = yaml.safe_dump(row, default_flow_style=True, allow_unicode=True, sort_keys=False, width=100_000)
        lines.append("  - " + text.strip())
    return "\n".join(lines) + "\n"


EXPECT_BLOCK = re.compile(r"^expect:.*?(?=^[A-Za-z_][\w-]*:|\Z)", re.S | re.M)


def replace_expect(text: str, block: str) -> str:
    """``text`` (a fixture file) with its top-level ``expect:`` block replaced by ``block``; the rest untouched."""
    if not EXPECT_BLOCK.search(text):
        return text.rstrip("\n") + "\n" + block
    return EXPECT_BLOCK.sub(lambda _: block, text, count=1)


def diff_expect(path: Any, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> FixtureChange:
    """Compare an old ``expect`` list with new golden rows: keys added/removed and values changed."""
    old_keys = {row_key(e): e for e in old}
    new_keys = {row_key(e): e for e in new}
    added = [key_text(k) for k in sorted(set(new_keys) - set(old_keys), key=str)]
    removed = [key_text(k) for k in sorted(set(old_keys) - set(new_keys), key=str)]
    values = []
    for k in sorted(set(old_keys) & set(new_keys), key=str):
        before, after = old_keys[k], new_keys[k]
        for f in VALUE_FIELDS:
            want = _plain_evidence(before.get(f)) if f == "evidence" else before.get(f)
            if not is_golden(before):
                values.append(f"{key_text(k)} pinned (was key only)")
                break
            if not _close(want, after[f]):
                values.append(f"{key_text(k)} {f}: {_show(want)} → {_show(after[f])}")
    return FixtureChange(path, bool(added or removed or values), added, removed, values)
