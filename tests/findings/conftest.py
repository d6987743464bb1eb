"""Findings-store fixtures: a tiny dataset built in code (two tariff versions, meters, bills, areas, feeders)
and a fresh case store on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version
from gridaudit.findings import findings_table


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = load_contract().table(name).arrow_schema()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


CUSTOMERS = [
    # id, unit, area, feeder, tariff
    ("C1", "U1", "A1", "F1", "RES"),
    ("C2", "U1", "A1", None, "COM"),  # feeder through its area A1 → F1
    ("C3", "U2", "A2", "F2", "RES"),
    ("C4", "U2", "A2", "F2", "GONE"),  # a tariff with no version in force after 2024-03
]
TARIFFS = [
    # code, price, valid_from, valid_to
    ("RES", 0.50, date(2020, 1, 1), date(2024, 3, 31)),
    ("RES", 0.60, date(2024, 4, 1), None),
    ("COM", 0.80, date(2020, 1, 1), None),
    ("GONE", 1.00, date(2020, 1, 1), date(2024, 3, 31)),
]


def build_dataset(root: Path, with_tariffs: bool = True) -> Path:
    """A dataset with units U1/U2, areas A1/A2, feeders F1/F2, customers C1–C4, meters M1–M4, bills B1–B2."""
    st = stage_version(root)
    st.write_table("units", _table("units", [dict(unit_id="U1", name="一所"), dict(unit_id="U2", name="二所")]))
    st.write_table(
        "feeders",
        _table("feeders", [dict(feeder_id=f, unit_id=u, voltage_kv=10.0) for f, u in (("F1", "U1"), ("F2", "U2"))]),
    )
    st.write_table(
        "areas",
        _table(
            "areas",
            [dict(area_id="A1", feeder_id="F1", unit_id="U1"), dict(area_id="A2", feeder_id="F2", unit_id="U2")],
        ),
    )
    st.write_table(
        "staff",
        _table(
            "staff", [dict(staff_id="S1", unit_id="U1", role="reader"), dict(staff_id="S2", unit_id="U2", role="clerk")]
        ),
    )
    st.write_table(
        "customers",
        _table(
            "customers",
            [
                dict(
                    customer_id=c,
                    unit_id=u,
                    area_id=a,
                    feeder_id=f,
                    tariff_code=t,
                    category="residential",
                    voltage_kv=0.4,
                    contract_kva=8.0,
                    status="active",
                )  # fmt: skip
                for c, u, a, f, t in CUSTOMERS
            ],
        ),
    )
    st.write_table(
        "meters",
        _table(
            "meters",
            [dict(meter_id=f"M{i}", role="customer", multiplier=1.0, customer_id=f"C{i}") for i in range(1, 5)]
            + [dict(meter_id="MA1", role="area_total", multiplier=1.0, area_id="A1")],
        ),
    )
    st.write_table(
        "bills",
        _table(
            "bills",
            [
                dict(bill_id="B1", customer_id="C1", period="2024-02", kwh=100.0, tariff_code="RES", amount_yuan=50.0),
                dict(bill_id="B2", customer_id="C2", period="2024-05", kwh=100.0, tariff_code="COM", amount_yuan=80.0),
            ],
        ),
    )
    if with_tariffs:
        st.write_table(
            "tariffs",
            _table(
                "tariffs",
                [
                    dict(tariff_code=c, category="residential", price_yuan_kwh=p, valid_from=vf, valid_to=vt)
                    for c, p, vf, vt in TARIFFS
                ],
            ),
        )
    commit_version(st, {"sources": ["tests/findings"]})
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A fresh tiny dataset folder (its findings store is empty)."""
    return build_dataset(tmp_path / "ds")


def finding(rule_id: str = "r1", entity_type: str = "customer", entity_id: str = "C1", **kw) -> dict:
    """One finding dict with sensible defaults (family billing, severity high, period 2024-05)."""
    row = dict(
        rule_id=rule_id,
        family="billing",
        severity="high",
        entity_type=entity_type,
        entity_id=entity_id,
        period="2024-05",
        score=1.0,
        kwh_at_stake=None,
        yuan_at_stake=None,
        responsible_staff_id=None,
        evidence={},
        run_id="analyzer-own",
    )
    row.update(kw)
    return row


def table(*rows: dict) -> pa.Table:
    """A findings table from finding dicts."""
    return findings_table([dict(r) for r in rows])


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty case store location on each backend (PostgreSQL: a schema of its own, dropped after)."""
    if request.param == "sqlite":
        yield str(tmp_path / "cases.db")
        return
    import psycopg

    url = request.getfixturevalue("pg_url")
    schema = f"gridaudit_findings_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
