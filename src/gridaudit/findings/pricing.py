"""Money at stake in yuan for every finding (DESIGN §5: one priority scale).

Applied once, when a run is appended to the findings store (``gridaudit.findings.store``):

* a finding that gives ¥ keeps it; a negative ¥ (or kWh) only says a direction (a negative adjustment,
  an over-billing) and becomes its absolute value, the signed value kept in evidence
  (``signed_yuan_at_stake`` / ``signed_kwh_at_stake``);
* a finding that gives only kWh is priced by the tariff in force for its customer on the last day of
  its (last) period month: ``customers.tariff_code`` → the ``tariffs`` version with ``valid_from <= day``
  and ``valid_to`` empty or ``>= day`` (the latest such version). Meters, bills and work orders are
  priced through their customer. Areas and feeders are priced at the average price of their customers'
  tariffs in force that day (a feeder's customers: ``customers.feeder_id``, else their area's feeder).
  A finding without a period is priced at the latest tariff version. The flat energy price
  ``price_yuan_kwh`` is used (tiers, time-of-use and demand charges need the bill, which a kWh-only
  finding does not carry). The price, tariff and day are written into evidence;
* a finding whose money cannot be known keeps ``yuan_at_stake`` empty and says why in evidence:
  ``money_unknown`` holds one of the codes of :data:`MONEY_UNKNOWN`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from gridaudit.findings.shape import evidence_json

CUSTOMER_OF = {  # entity type → (table, key column): entities priced through their customer
    "meter": ("meters", "meter_id"),
    "bill": ("bills", "bill_id"),
    "work_order": ("work_orders", "order_id"),
}

MONEY_UNKNOWN: dict[str, tuple[str, str]] = {
    "no_amount": ("该问题既无电量也无金额", "the finding gives neither kWh nor yuan"),
    "no_price_for_entity_type": ("此类对象（如员工）无电价可用", "no tariff applies to this entity type (e.g. staff)"),
    "no_customer": ("数据集中找不到该对象对应的用户", "the entity has no customer in the dataset"),
    "no_tariff_table": ("数据集没有 customers/tariffs 表", "the dataset has no customers/tariffs table"),
    "no_tariff_in_force": ("该期间无有效电价版本", "no tariff version is in force for that period"),
    "no_customers_priced": ("该台区/线路下无可计价的用户", "no customer of this area/feeder has a tariff in force"),
}


def money_unknown_text(code: str) -> tuple[str, str]:
    """The (zh, en) explanation of a ``money_unknown`` code (the code itself when unknown)."""
    return MONEY_UNKNOWN.get(code, (code, code))


@dataclass
class PricingStats:
    """What pricing did to one run (recorded in the run's counts)."""

    priced_from_kwh: int = 0
    made_absolute: int = 0
    money_unknown: dict[str, int] = field(default_factory=dict)
    yuan_total: float = 0.0

    def add(self, other: PricingStats) -> None:
        """Accumulate another batch's stats."""
        self.priced_from_kwh += other.priced_from_kwh
        self.made_absolute += other.made_absolute
        for k, v in other.money_unknown.items():
            self.money_unknown[k] = self.money_unknown.get(k, 0) + v
        self.yuan_total += other.yuan_total

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON for run.json."""
        return {
            "priced_from_kwh": self.priced_from_kwh,
            "made_absolute": self.made_absolute,
            "money_unknown": dict(sorted(self.money_unknown.items())),
            "yuan_total": round(self.yuan_total, 2),
        }


MONTH_SQL = r"list_max(regexp_extract_all(coalesce(period, ''), '\d{4}-(0[1-9]|1[0-2])'))"


class Pricer:
    """Prices findings against one dataset version through DuckDB; the engine opens on first need."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self._engine: Any = None

    def close(self) -> None:
        """Close the engine if it was opened."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def _eng(self) -> Any:
        if self._engine is None:
            from gridaudit.engines import open_engine

            self._engine = open_engine(self.dataset)
        return self._engine

    def price(self, table: pa.Table) -> tuple[pa.Table, PricingStats]:
        """``table`` (findings shape) with ¥ at stake filled, made absolute or explained; and what changed."""
        stats = PricingStats()
        n = table.num_rows
        if n == 0:
            return table, stats
        kwh = _floats(table.column("kwh_at_stake"))
        yuan = _floats(table.column("yuan_at_stake"))
        neg_kwh, neg_yuan = kwh < 0, yuan < 0
        kwh_abs, yuan_abs = np.abs(kwh), np.abs(yuan)
        need = np.isnan(yuan) & ~np.isnan(kwh)
        extra: dict[int, dict[str, Any]] = {}
        for i in np.flatnonzero(neg_kwh | neg_yuan).tolist():
            add = extra.setdefault(i, {})
            if neg_yuan[i]:
                add["signed_yuan_at_stake"] = float(yuan[i])
            if neg_kwh[i]:
                add["signed_kwh_at_stake"] = float(kwh[i])
        stats.made_absolute = int((neg_kwh | neg_yuan).sum())
        for i in np.flatnonzero(np.isnan(yuan) & np.isnan(kwh)).tolist():
            extra.setdefault(i, {})["money_unknown"] = "no_amount"
        new_yuan = yuan_abs.copy()
        if need.any():
            idx = np.flatnonzero(need)
            prices = self._prices(table, idx)
            for i in idx.tolist():
                found = prices.get(i)
                add = extra.setdefault(i, {})
                if found is None or isinstance(found, str):
                    add["money_unknown"] = found or "no_customer"
                    continue
                price, basis = found
                new_yuan[i] = round(float(kwh_abs[i]) * price, 2)
                add.update(basis)
                add["price_yuan_kwh"] = round(price, 6)
                add["yuan_priced_from_kwh"] = True
                stats.priced_from_kwh += 1
        for add in extra.values():
            code = add.get("money_unknown")
            if code:
                stats.money_unknown[code] = stats.money_unknown.get(code, 0) + 1
        stats.yuan_total = float(np.nansum(new_yuan))
        out = table.set_column(
            table.schema.get_field_index("yuan_at_stake"), "yuan_at_stake", _float_array(new_yuan)
        ).set_column(table.schema.get_field_index("kwh_at_stake"), "kwh_at_stake", _float_array(kwh_abs))
        if extra:
            evidence = table.column("evidence").to_pylist()
            for i, add in extra.items():
                evidence[i] = merge_evidence(evidence[i], add)
            out = out.set_column(out.schema.get_field_index("evidence"), "evidence", pa.array(evidence, pa.string()))
        return out, stats

    def _prices(self, table: pa.Table, idx: np.ndarray) -> dict[int, tuple[float, dict[str, Any]] | str]:
        """row index → (price ¥/kWh, evidence of the basis), or a money_unknown code."""
        ds = self.dataset
        need = table.take(pa.array(idx, pa.int64())).select(["entity_type", "entity_id", "period"])
        need = need.append_column("row_idx", pa.array(idx, pa.int64()))
        types = set(need.column("entity_type").to_pylist())
        out: dict[int, tuple[float, dict[str, Any]] | str] = {}
        priceable = {"customer", "area", "feeder", *CUSTOMER_OF}
        for i, t in zip(idx.tolist(), need.column("entity_type").to_pylist(), strict=True):
            if t not in priceable:
                out[i] = "no_price_for_entity_type"
        if not (ds.has("customers") and ds.has("tariffs")):
            for i in idx.tolist():
                out.setdefault(i, "no_tariff_table")
            return out
        eng = self._eng()
        eng.register_table("_price_need", need)
        eng.materialise(
            "_price_day",
            f"SELECT row_idx, entity_type, CAST(entity_id AS VARCHAR) AS "
            f"entity_id, CASE WHEN m IS NULL THEN NULL ELSE last_day(CAST(m || '-01' AS DATE)) END AS price_day "
            f"FROM (SELECT *, {MONTH_SQL} AS m FROM _price_need)",
        )
        try:
            self._customer_prices(eng, ds, types, out)
            if types & {"area", "feeder"}:
                self._group_prices(eng, ds, types, out)
        finally:
            eng.drop_materialised("_price_day")
            eng.drop_materialised("_price_need")
        return out

    @staticmethod
    def _customer_prices(eng: Any, ds: Any, types: set[str], out: dict) -> None:
        parts = ["SELECT row_idx, price_day, entity_id AS customer_id FROM _price_day WHERE entity_type = 'customer'"]
        for etype, (tname, key) in CUSTOMER_OF.items():
            if etype in types and ds.has(tname):
                parts.append(
                    f"SELECT d.row_idx, d.price_day, CAST(x.customer_id AS VARCHAR) FROM _price_day d "
                    f"JOIN {tname} x ON CAST(x.{key} AS VARCHAR) = d.entity_id "
                    f"WHERE d.entity_type = '{etype}' AND x.customer_id IS NOT NULL"
                )
        sql = f"""
        WITH x AS ({" UNION ALL ".join(parts)})
        SELECT x.row_idx, c.customer_id IS NOT NULL AS has_customer, c.tariff_code, t.price_yuan_kwh,
               t.valid_from, x.price_day
        FROM x
        LEFT JOIN customers c ON CAST(c.customer_id AS VARCHAR) = x.customer_id
        LEFT JOIN tariffs t ON t.tariff_code = c.tariff_code
             AND (x.price_day IS NULL OR (t.valid_from <= x.price_day
                  AND (t.valid_to IS NULL OR t.valid_to >= x.price_day)))
        QUALIFY row_number() OVER (PARTITION BY x.row_idx ORDER BY t.valid_from DESC NULLS LAST) = 1
        """
        for rec in eng.query(sql).to_pylist():
            row_idx, has_c, code, price, valid_from, day = rec.values()
            if not has_c:
                out[row_idx] = "no_customer"
            elif price is None:
                out[row_idx] = "no_tariff_in_force"
            else:
                basis = {"price_tariff": code, "price_valid_from": str(valid_from)}
                basis["price_day"] = str(day) if day is not None else "latest"
                out[row_idx] = (float(price), basis)

    @staticmethod
    def _group_prices(eng: Any, ds: Any, types: set[str], out: dict) -> None:
        feeder = "c.feeder_id"
        join = ""
        if ds.has("areas"):
            feeder = "coalesce(c.feeder_id, a.feeder_id)"
            join = "LEFT JOIN areas a ON a.area_id = c.area_id"
        sql = f"""
        WITH members AS (
            SELECT CAST(c.customer_id AS VARCHAR) AS customer_id, c.tariff_code,
                   CAST(c.area_id AS VARCHAR) AS area_id, CAST({feeder} AS VARCHAR) AS feeder_id
            FROM customers c {join}
        ),
        d AS (
            SELECT d.row_idx, d.price_day, m.customer_id, m.tariff_code FROM _price_day d
            JOIN members m ON (d.entity_type = 'area' AND m.area_id = d.entity_id)
                           OR (d.entity_type = 'feeder' AND m.feeder_id = d.entity_id)
        ),
        p AS (
            SELECT d.row_idx, d.price_day, t.price_yuan_kwh FROM d JOIN tariffs t ON t.tariff_code = d.tariff_code
                 AND (d.price_day IS NULL OR (t.valid_from <= d.price_day
                      AND (t.valid_to IS NULL OR t.valid_to >= d.price_day)))
            QUALIFY row_number() OVER (PARTITION BY d.row_idx, d.customer_id ORDER BY t.valid_from DESC) = 1
        )
        SELECT g.row_idx, avg(p.price_yuan_kwh) AS price, count(p.price_yuan_kwh) AS n, any_value(g.price_day) AS day
        FROM _price_day g LEFT JOIN p ON p.row_idx = g.row_idx
        WHERE g.entity_type IN ('area', 'feeder')
        GROUP BY g.row_idx
        """
        for rec in eng.query(sql).to_pylist():
            row_idx, price, n, day = rec.values()
            if price is None:
                out[row_idx] = "no_customers_priced"
            else:
                basis = {"price_basis": "average of customers' tariffs", "price_customers": int(n)}
                basis["price_day"] = str(day) if day is not None else "latest"
                out[row_idx] = (float(price), basis)


def merge_evidence(evidence: str | None, add: dict[str, Any]) -> str:
    """Evidence JSON with the keys of ``add`` set (a non-object evidence is kept under ``"evidence"``)."""
    try:
        ev = json.loads(evidence) if evidence else {}
    except json.JSONDecodeError:
        ev = {"evidence": evidence}
    if not isinstance(ev, dict):
        ev = {"evidence": ev}
    ev.update(add)
    return evidence_json(ev)


def _floats(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype="float64")


def _float_array(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def is_missing(value: float | None) -> bool:
    """Whether a money value is absent (None or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))
