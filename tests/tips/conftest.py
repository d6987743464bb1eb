"""Tip-off fixtures: a tiny dataset built in code (customers with addresses, meters, a tip-off work order)
and a case store with users of every role."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest

from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version

CONTACT = "王五 13800138000"  # the reporter: must never appear outside the audit lead's views

PEOPLE = [
    ("admin", "admin", None, None),
    ("lead", "audit_lead", None, "S80"),
    ("lead2", "audit_lead", None, "S81"),
    ("mgr", "manager", None, "S90"),
    ("li", "auditor", None, "S70"),
    ("zhang", "inspector", None, "S60"),
    ("view", "viewer", None, None),
]


def _table(name: str, rows: list[dict]) -> pa.Table:
    schema = load_contract().table(name).arrow_schema()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


CUSTOMERS = [
    ("C1", "U1", "A1", "幸福路 12 号"),
    ("C2", "U1", "A1", "幸福路１２号（东门）"),  # full-width digits, a suffix: a partial match of 幸福路12号
    ("C3", "U2", "A2", "和平街 5 号"),
    ("C4", "U2", "A2", "和平街5号"),  # same address as C3 once normalised: ambiguous
    ("C5", "U2", "A3", "解放路 8 号"),  # alone in area A3
]


def build_dataset(root: Path) -> Path:
    """Units U1/U2, areas A1–A3, customers C1–C5 with addresses, meters M1–M5 and an area meter MA1, one
    tip-off work order (W1 on C5) and one ordinary order."""
    st = stage_version(root)
    st.write_table("units", _table("units", [dict(unit_id="U1", name="一所"), dict(unit_id="U2", name="二所")]))
    st.write_table(
        "customers",
        _table(
            "customers",
            [
                dict(
                    customer_id=c,
                    unit_id=u,
                    area_id=a,
                    address=addr,
                    tariff_code="RES",
                    category="residential",
                    voltage_kv=0.4,
                    contract_kva=8.0,
                    status="active",
                )  # fmt: skip
                for c, u, a, addr in CUSTOMERS
            ],
        ),
    )
    meters = [dict(meter_id=f"M{c[1:]}", role="customer", multiplier=1.0, customer_id=c) for c, *_ in CUSTOMERS]
    meters.append(dict(meter_id="MA3", role="area_total", multiplier=1.0, area_id="A3"))
    st.write_table("meters", _table("meters", meters))
    st.write_table(
        "work_orders",
        _table(
            "work_orders",
            [
                dict(
                    order_id="W1",
                    order_type="tip_off",
                    accepted_at=datetime(2025, 6, 20, 9),
                    customer_id="C5",
                    detail="群众举报绕越计量",
                ),  # fmt: skip
                dict(order_id="W2", order_type="complaint", accepted_at=datetime(2025, 6, 21, 9), customer_id="C1"),
                dict(order_id="W3", order_type="tip_off", accepted_at=datetime(2025, 6, 22, 9)),  # no customer
            ],
        ),
    )
    commit_version(st, {"sources": "tests/tips"})
    return root


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """The tiny tip-off dataset."""
    return build_dataset(tmp_path / "ds")


@pytest.fixture
def store(tmp_path: Path):
    """A migrated SQLite case store with the users of ``PEOPLE``."""
    from gridaudit.audit.store import open_store
    from gridaudit.audit.users import add_user

    st = open_store(tmp_path / "cases.db", create=True)
    for uid, role, unit, staff in PEOPLE:
        with st.transaction() as s:
            add_user(s, None if uid == "admin" else "admin", uid, uid.title(), role, unit, staff, None)
    yield st
    st.dispose()
