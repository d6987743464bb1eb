"""Matching a tip's subject to the customer(s) it names, in the dataset (through the DuckDB engine).

* customer id: that customer;
* meter: the meter's customer (a meter without a customer, e.g. an area's total meter, names its area);
* address: customers whose ``address`` (normalised, ``subjects.normalize_address``) equals the tip's, else
  those whose address contains it or is contained in it; within the tip's area when it names one too;
* area: the customers of that area (台区).

One customer is a match; several are candidates shown to a person, the tip held until ``tips match``
picks one; none is an unknown subject (the tip is kept, with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text
from gridaudit.tips.subjects import Subject, normalize_address

MAX_CANDIDATES = 50


@dataclass(frozen=True)
class Candidate:
    """A customer a tip may name, and why."""

    customer_id: str
    unit_id: str | None
    area_id: str | None
    why: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data (stored with the tip as JSON)."""
        return {"customer_id": self.customer_id, "unit_id": self.unit_id, "area_id": self.area_id, "why": self.why}


@dataclass
class Match:
    """The outcome of matching one subject: matched (one customer), ambiguous (candidates) or unknown."""

    status: str
    candidates: list[Candidate] = field(default_factory=list)
    reason: Text | None = None

    @property
    def customer_id(self) -> str | None:
        """The matched customer (None unless matched)."""
        return self.candidates[0].customer_id if self.status == "matched" else None


class Matcher:
    """Matches subjects against one dataset; the customers' addresses are read once, when first needed."""

    def __init__(self, dataset_dir: str | Path) -> None:
        from gridaudit.dataset import open_dataset
        from gridaudit.engines import open_engine

        self.dataset = open_dataset(dataset_dir)
        self.engine = open_engine(self.dataset)
        self._addresses: list[tuple[str, str | None, str | None, str]] | None = None

    def close(self) -> None:
        """Close the engine."""
        self.engine.close()

    def _columns(self, table: str) -> list[str]:
        return self.engine.query(f"select * from {table} limit 0").column_names if self.dataset.has(table) else []

    def _customers(self, where: str, params: dict[str, Any], why: str) -> list[Candidate]:
        if not self.dataset.has("customers"):
            return []
        area = "cast(area_id as varchar)" if "area_id" in self._columns("customers") else "null"
        rows = self.engine.query(
            f"select cast(customer_id as varchar) c, cast(unit_id as varchar) u, {area} a from customers "
            f"where {where} order by 1 limit {MAX_CANDIDATES + 1}",
            params,
        ).to_pylist()
        return [Candidate(r["c"], r["u"], r["a"], why) for r in rows]

    def customer(self, customer_id: str) -> Candidate | None:
        """The customer with this id, or None."""
        found = self._customers("cast(customer_id as varchar) = $v", {"v": customer_id}, "customer_id")
        return found[0] if found else None

    def match(self, subject: Subject) -> Match:
        """Match ``subject`` (see the module docstring)."""
        kind = subject.kind
        if kind == "customer":
            c = self.customer(str(subject.customer))
            if c is None:
                return _unknown(
                    f"数据集中没有用户 {subject.customer}", f"no customer {subject.customer} in the dataset"
                )
            return Match("matched", [c])
        if kind == "meter":
            return self._by_meter(str(subject.meter))
        if kind == "address":
            return self._by_address(str(subject.address), subject.area)
        return self._decide(
            self._customers("cast(area_id as varchar) = $v", {"v": subject.area}, "area")
            if "area_id" in self._columns("customers")
            else [],
            Text(f"台区 {subject.area} 下没有用户", f"no customers in area {subject.area}"),
        )

    def _by_meter(self, meter_id: str) -> Match:
        cols = self._columns("meters")
        if not cols:
            return _unknown("数据集中没有电能表（meters）表", "the dataset has no meters table")
        area = "cast(area_id as varchar)" if "area_id" in cols else "null"
        rows = self.engine.query(
            f"select cast(customer_id as varchar) c, {area} a from meters where cast(meter_id as varchar) = $v",
            {"v": meter_id},
        ).to_pylist()
        if not rows:
            return _unknown(f"数据集中没有电能表 {meter_id}", f"no meter {meter_id} in the dataset")
        customers = sorted({r["c"] for r in rows if r["c"]})
        if customers:
            found = [c for c in (self.customer(cid) for cid in customers) if c is not None]
            found = [Candidate(c.customer_id, c.unit_id, c.area_id, "meter") for c in found]
            return self._decide(
                found,
                Text(f"电能表 {meter_id} 的用户不在用户档案中", f"meter {meter_id}'s customer is not in customers"),
            )
        areas = sorted({r["a"] for r in rows if r["a"]})
        if areas:
            return self.match(Subject(area=areas[0]))
        return _unknown(f"电能表 {meter_id} 没有所属用户或台区", f"meter {meter_id} has no customer or area")

    def _address_index(self) -> list[tuple[str, str | None, str | None, str]]:
        if self._addresses is None:
            cols = self._columns("customers")
            self._addresses = []
            if "address" in cols:
                area = "cast(area_id as varchar)" if "area_id" in cols else "null"
                sql = (
                    f"select cast(customer_id as varchar) c, cast(unit_id as varchar) u, {area} a, "
                    "cast(address as varchar) addr from customers where address is not null"
                )
                for r in self.engine.query(sql).to_pylist():
                    norm = normalize_address(r["addr"])
                    if norm:
                        self._addresses.append((r["c"], r["u"], r["a"], norm))
        return self._addresses

    def _by_address(self, address: str, area: str | None) -> Match:
        if "address" not in self._columns("customers"):
            return _unknown(
                "用户档案没有地址列（address / 用电地址），不能按地址匹配",
                "customers has no address column (address / 用电地址): cannot match by address",
            )
        want = normalize_address(address)
        index = [r for r in self._address_index() if area is None or r[2] == area]
        exact = [Candidate(c, u, a, "address") for c, u, a, n in index if n == want]
        if exact:
            return self._decide(exact, None)
        near = [Candidate(c, u, a, "address_partial") for c, u, a, n in index if want and (want in n or n in want)]
        if len(near) == 1:  # a partial match is never taken alone: a person confirms it
            return Match("ambiguous", near)
        return self._decide(
            near, Text(f"没有用户的地址与“{address}”相符", f"no customer's address matches {address!r}")
        )

    def _decide(self, found: list[Candidate], none: Text | None) -> Match:
        if len(found) == 1:
            return Match("matched", found)
        if found:
            return Match("ambiguous", found[:MAX_CANDIDATES])
        return Match("unknown", [], none or Text("没有匹配的用户", "no matching customer"))


def _unknown(zh: str, en: str) -> Match:
    return Match("unknown", [], Text(zh, en))
