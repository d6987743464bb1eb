"""Line-loss results as findings (family ``loss``, DESIGN §5).

rule_id                  entity    period        fires when
loss_area_negative       area      YYYY-MM       monthly band negative (evidence: mapping findings that explain it)
loss_area_high           area      YYYY-MM       monthly band high (evidence: mapping findings moving energy in/out)
loss_area_extreme        area      YYYY-MM       monthly band extreme
loss_customer_suspect    customer  window label  top-ranked customer of a flagged area with score ≥ behind.min_score
loss_mapping_error       customer  window label  the customer's use explains another area's loss (mapping.py);
                                               evidence lists the area findings it moves kWh in or out of
loss_trend_rise          area      YYYY-MM       rate up by more than trends.rise_points against the month before
loss_persistent_high     area      YYYY-MM       trends.high_months or more months in a row high/extreme (last month)
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa

from gridaudit.findings import findings_table
from gridaudit.lineloss.settings import LossSettings

SEVERITY = {"negative": "medium", "high": "medium", "extreme": "high"}
RULE_IDS = (  # every rule_id this module can write (the table in the module docstring)
    "loss_area_negative",
    "loss_area_high",
    "loss_area_extreme",
    "loss_customer_suspect",
    "loss_mapping_error",
    "loss_trend_rise",
    "loss_persistent_high",
)


def _rows(table: pa.Table | None) -> list[dict[str, Any]]:
    return [] if table is None else table.to_pylist()


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(float(x), nd)


def build_findings(
    *,
    monthly: pa.Table,
    technical_monthly: pa.Table,
    suspects: pa.Table,
    mapping: pa.Table,
    mapping_monthly: pa.Table,
    trends: pa.Table,
    managers: dict[str, str | None],
    prices: dict[str, float],
    area_prices: dict[str, float] | None = None,
    settings: LossSettings,
    window_label: str,
    run_id: str,
) -> pa.Table:
    """All loss findings of one run, in the findings shape.

    ¥ at stake: customer findings at the customer's tariff price; high/extreme area findings at the mean
    price of the area's customers (negative areas and mapping errors move energy, they do not lose it).
    """
    area_prices = area_prices or {}
    out: list[dict[str, Any]] = []
    tech = {(t["area_id"], t["period"]): t for t in _rows(technical_monthly)}
    moved: dict[tuple[str, str], list[dict]] = defaultdict(list)  # (area, period) → mapping customers in/out
    for m in _rows(mapping_monthly):
        moved[(m["recorded_area"], m["period"])].append({**m, "direction": "out"})
        moved[(m["likely_area"], m["period"])].append({**m, "direction": "in"})

    explains: dict[str, list[dict]] = defaultdict(list)  # customer → the area findings its energy moves
    for row in _rows(monthly):
        if row["level"] != "area" or row["band"] not in SEVERITY:
            continue
        area, period = row["entity_id"], row["period"]
        bands = settings.bands_for(row["unit_id"], "area")
        t = tech.get((area, period), {})
        technical = t.get("technical_kwh")
        shift = moved.get((area, period), [])
        out_kwh = sum(m["use_kwh"] for m in shift if m["direction"] == "out")
        in_kwh = sum(m["use_kwh"] for m in shift if m["direction"] == "in")
        # the rate is over the computable days (可算日): so are the energy behind it and the ¥ at stake
        supply, loss = row["supply_kwh_used"], row["loss_kwh_used"]
        corrected = loss + out_kwh - in_kwh
        corrected_rate = 100.0 * corrected / supply if supply else None
        if row["band"] == "negative":
            at_stake = -loss
        elif technical is not None:
            at_stake = max(loss - technical, 0.0)
        else:
            at_stake = max(loss - bands.watch_from / 100.0 * supply, 0.0)
        evidence = {
            "supply_kwh": _r(supply),
            "sales_kwh": _r(row["sales_kwh_used"]),
            "loss_kwh": _r(loss),
            "loss_rate_pct": _r(row["loss_rate_pct"], 2),
            "coverage": _r(row["coverage_used"], 4),
            "band": row["band"],
            "days": row["days"],
            "days_used": row["days_used"],
            "days_left_out": row["days_left_out"],
            "left_out_days": row["left_out_days"],
            "high_from_pct": bands.high_from,
            "negative_below_pct": bands.negative_below,
            "technical_kwh": _r(technical),
            "feeder_id": row["feeder_id"],
            "unit_id": row["unit_id"],
        }
        if shift:
            evidence["mapping_findings"] = sorted(
                (
                    {
                        "customer_id": m["customer_id"],
                        "direction": m["direction"],
                        "use_kwh": _r(m["use_kwh"]),
                        "other_area": m["likely_area"] if m["direction"] == "out" else m["recorded_area"],
                    }
                    for m in shift
                ),
                key=lambda d: (d["direction"], d["customer_id"]),
            )
            evidence["corrected_loss_kwh"] = _r(corrected)
            evidence["corrected_rate_pct"] = _r(corrected_rate, 2)
        if row["band"] == "negative":
            evidence["explained_by_mapping"] = bool(
                shift and corrected_rate is not None and corrected_rate >= bands.negative_below
            )
        elif shift:  # high or extreme: explained when the moved energy brings the rate below the high band
            evidence["explained_by_mapping"] = bool(corrected_rate is not None and corrected_rate <= bands.high_from)
        for m in shift:  # the mapping finding names every area finding it moves energy in or out of
            explains[m["customer_id"]].append(
                {"area_id": area, "period": period, "band": row["band"], "direction": m["direction"],
                 "kwh_moved": _r(m["use_kwh"]), "loss_rate_pct": _r(row["loss_rate_pct"], 2),
                 "corrected_rate_pct": _r(corrected_rate, 2)}
            )  # fmt: skip
        out.append(
            {
                "rule_id": f"loss_area_{row['band']}",
                "family": "loss",
                "severity": SEVERITY[row["band"]],
                "entity_type": "area",
                "entity_id": area,
                "period": period,
                "score": _r(abs(row["loss_rate_pct"]) / 100.0, 4),
                "kwh_at_stake": _r(at_stake),
                "yuan_at_stake": _r(at_stake * area_prices[area], 2)
                if row["band"] != "negative" and area in area_prices
                else None,
                "responsible_staff_id": managers.get(area),
                "evidence": evidence,
                "run_id": run_id,
            }
        )

    mapped = set()
    for m in _rows(mapping):
        mapped.add(m["customer_id"])
        price = prices.get(m["customer_id"])
        out.append(
            {
                "rule_id": "loss_mapping_error",
                "family": "loss",
                "severity": "medium",
                "entity_type": "customer",
                "entity_id": m["customer_id"],
                "period": window_label,
                "score": _r(m["partial_corr"], 4),
                "kwh_at_stake": _r(m["use_kwh"]),
                "yuan_at_stake": None,
                "responsible_staff_id": managers.get(m["recorded_area"]),
                "evidence": {
                    "recorded_area_id": m["recorded_area"],
                    "likely_area_id": m["likely_area"],
                    "days": m["days"],
                    "beta_likely_area": _r(m["beta"], 4),
                    "partial_corr_likely_area": _r(m["partial_corr"], 4),
                    "beta_recorded_area": _r(m["beta_own"], 4),
                    "use_kwh": _r(m["use_kwh"]),
                    "price_yuan_kwh": price,
                    "explains_area_findings": sorted(
                        explains.get(m["customer_id"], []), key=lambda d: (d["period"], d["area_id"])
                    ),
                },
                "run_id": run_id,
            }
        )

    b = settings.behind
    for s in _rows(suspects):
        if s["rank_in_area"] > b.top_customers or s["score"] < b.min_score or s["customer_id"] in mapped:
            continue
        price = prices.get(s["customer_id"])
        kwh = s["kwh_missing"] or 0.0
        out.append(
            {
                "rule_id": "loss_customer_suspect",
                "family": "loss",
                "severity": "high" if s["score"] >= 0.6 else "medium",
                "entity_type": "customer",
                "entity_id": s["customer_id"],
                "period": window_label,
                "score": _r(s["score"], 4),
                "kwh_at_stake": _r(kwh),
                "yuan_at_stake": _r(kwh * price, 2) if price is not None else None,
                "responsible_staff_id": managers.get(s["area_id"]),
                "evidence": {
                    "area_id": s["area_id"],
                    "rank_in_area": s["rank_in_area"],
                    "days": s["days"],
                    "corr_use_vs_area_loss": _r(s["corr"], 4),
                    "drop_share_on_high_loss_days": _r(s["drop_share"], 4),
                    "events": s["events"],
                    "event_types": s["event_types"],
                    "use_kwh": _r(s["use_kwh"]),
                },
                "run_id": run_id,
            }
        )

    for tr in _rows(trends):
        rule = "loss_trend_rise" if tr["kind"] == "rise" else "loss_persistent_high"
        ev = {"loss_rate_pct": _r(tr["loss_rate_pct"], 2), "unit_id": tr["unit_id"]}
        if tr["kind"] == "rise":
            ev.update(
                previous_rate_pct=_r(tr["prev_rate"], 2),
                change_points=_r(tr["change_points"], 2),
                rise_points_setting=settings.trends.rise_points,
            )
        else:
            ev.update(
                first_period=tr["first_period"], months=tr["months"], high_months_setting=settings.trends.high_months
            )
        out.append(
            {
                "rule_id": rule,
                "family": "loss",
                "severity": "medium" if tr["kind"] == "rise" else "high",
                "entity_type": "area",
                "entity_id": tr["area_id"],
                "period": tr["period"],
                "score": _r((tr["change_points"] if tr["kind"] == "rise" else tr["loss_rate_pct"]) / 100.0, 4),
                "kwh_at_stake": None,
                "yuan_at_stake": None,
                "responsible_staff_id": managers.get(tr["area_id"]),
                "evidence": ev,
                "run_id": run_id,
            }
        )
    return findings_table(out)
