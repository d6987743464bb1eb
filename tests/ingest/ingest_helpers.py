"""Exports written in code for the ingest tests (a module name no other test folder uses)."""

from __future__ import annotations

from pathlib import Path

METERS = "meter_id,role,multiplier,customer_id\nM1,customer,1,C1\nM2,customer,40,C2\nM3,area_total,1,\n"
READINGS_JAN = (
    "meter_id,period,read_on,reading,read_type\n"
    "M1,2024-01,2024-01-31,100,actual\n"
    "M2,2024-01,2024-01-31,200.5,ami\n"
    "M3,2024-01,2024-01-31,5000,ami\n"
)
READINGS_FEB = (
    "meter_id,period,read_on,reading,read_type\n"
    "M1,2024-02,2024-02-29,130,actual\n"
    "M2,2024-02,2024-02-29,260,ami\n"
    "M3,2024-02,2024-02-29,5600,ami\n"
)


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` as ``folder/name`` in ``encoding``."""
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode(encoding))
    return p
