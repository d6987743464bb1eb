"""Meter replacements: one consistent swap across meters, readings, AMI, bills, orders and seals; the
injected unbilled final reading is in truth and the replacement rule finds it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


def _q(small_synth: Path, sql: str) -> list[tuple]:
    con = duckdb.connect()
    for t in ("meters", "readings", "daily_usage", "bills", "work_orders", "work_order_steps", "seals"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM '{small_synth}/{t}.parquet'")
    con.execute(f"CREATE VIEW truth AS SELECT * FROM read_csv('{small_synth}/truth.csv', all_varchar = true)")
    return con.execute(sql).fetchall()


SWAPS = """
    SELECT o.meter_id AS old_id, n.meter_id AS new_id, o.customer_id, o.removed_on, o.multiplier AS m_old,
           n.multiplier AS m_new, n.installed_on
    FROM meters o JOIN meters n ON n.customer_id = o.customer_id AND n.meter_id <> o.meter_id
    WHERE o.role = 'customer' AND o.removed_on IS NOT NULL"""


def test_a_replacement_is_one_consistent_swap(small_synth: Path) -> None:
    rows = _q(
        small_synth,
        f"""WITH s AS ({SWAPS})
        SELECT s.old_id, s.new_id, s.removed_on = s.installed_on,
          (SELECT count(*) FROM work_orders w JOIN work_order_steps st USING (order_id)
            WHERE w.customer_id = s.customer_id AND w.order_type = 'meter_replacement'
              AND st.step = 'meter_installed' AND CAST(st.finished_at AS DATE) = s.removed_on),
          (SELECT max(day) FROM daily_usage d WHERE d.meter_id = s.old_id) <= s.removed_on,
          (SELECT min(day) FROM daily_usage d WHERE d.meter_id = s.new_id) > s.removed_on,
          (SELECT reading FROM readings r WHERE r.meter_id = s.old_id AND r.read_on = s.removed_on),
          (SELECT register FROM daily_usage d WHERE d.meter_id = s.old_id AND d.day = s.removed_on),
          (SELECT reading FROM readings r WHERE r.meter_id = s.new_id AND r.read_on = s.installed_on),
          (SELECT min_by(register - kwh, day) FROM daily_usage d WHERE d.meter_id = s.new_id),
          (SELECT count(*) FROM seals x WHERE x.meter_id = s.old_id AND x.removed_at IS NULL),
          (SELECT count(*) FROM seals x WHERE x.meter_id = s.new_id AND x.removed_at IS NULL),
          s.old_id IN (SELECT entity_id FROM truth WHERE kind = 'staff_replaced_no_final_read')
        FROM s""",
    )
    assert len(rows) >= 10
    injected = 0
    for (
        old,
        new,
        same_day,
        orders,
        old_ends,
        new_starts,
        final,
        old_reg,
        install,
        new_start,
        old_seals,
        new_seals,
        inj,
    ) in rows:
        assert new == old + "B" and same_day and orders == 1, old
        assert old_ends is not False and new_starts is not False, old
        assert old_seals == 0 and new_seals == 3, old
        if old_reg is not None and final is not None:
            assert final == pytest.approx(old_reg), old  # the final reading is the AMI register of the day
        if new_start is not None:
            assert install == pytest.approx(new_start, abs=0.011), new  # the new register starts at the install reading
        injected += inj
        assert (final is None) == inj, old  # a final reading unless injected missing
    assert injected >= 1


def test_bills_carry_both_meters_energy(small_synth: Path) -> None:
    """Over the run, a replaced customer with no other irregularity is billed Σ over its meters of
    (last − first reading) × multiplier; the injected ones are billed less."""
    rows = _q(
        small_synth,
        f"""WITH s AS ({SWAPS}),
        clean AS (SELECT * FROM s WHERE customer_id NOT IN (SELECT json_extract_string(detail, '$.customer_id')
                  FROM truth WHERE json_extract_string(detail, '$.customer_id') IS NOT NULL)
                  AND customer_id NOT IN (SELECT entity_id FROM truth)),
        metered AS (SELECT m.customer_id, sum((r.last - r.first) * m.multiplier) AS kwh
                    FROM (SELECT meter_id, arg_max(reading, read_on) AS last, arg_min(reading, read_on) AS first
                          FROM readings GROUP BY meter_id) r JOIN meters m USING (meter_id) GROUP BY m.customer_id),
        billed AS (SELECT customer_id, sum(kwh - coalesce(adjustment_kwh, 0)) AS kwh FROM bills GROUP BY customer_id)
        SELECT c.customer_id, metered.kwh, billed.kwh FROM clean c JOIN metered USING (customer_id)
        JOIN billed USING (customer_id)""",
    )
    assert len(rows) >= 5
    for cid, metered, billed in rows:
        assert billed == pytest.approx(metered, abs=0.05), cid


def test_replacement_rule_finds_the_unbilled_final_readings(small_synth: Path, small_dataset) -> None:
    from .synth_rule_helpers import rule_hits

    hits = rule_hits(small_dataset.dataset, "metering_replaced_no_final_read")
    truth = {r[0] for r in _q(small_synth, "SELECT entity_id FROM truth WHERE kind = 'staff_replaced_no_final_read'")}
    assert truth and hits == truth
