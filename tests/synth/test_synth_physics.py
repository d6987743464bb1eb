"""Physical consistency, checked by an independent SQL query over the generated files."""

from __future__ import annotations

import duckdb
import pytest

from gridaudit.synth import SynthConfig, generate

LOSS_SQL = """
WITH m AS (SELECT * FROM '{d}/meters.parquet'),
du AS (SELECT d.meter_id, d.day, d.kwh * m.multiplier AS e, m.role, m.area_id
       FROM '{d}/daily_usage.parquet' d JOIN m USING (meter_id)),
t AS (SELECT * FROM read_csv('{d}/truth.csv', all_varchar = true)),
c AS (SELECT * FROM '{d}/customers.parquet'),
cover AS (SELECT m.area_id, count(DISTINCT r.meter_id) / count(DISTINCT m.meter_id) AS share
          FROM m LEFT JOIN (SELECT DISTINCT meter_id FROM du) r USING (meter_id)
          WHERE m.role = 'customer' AND m.area_id IS NOT NULL GROUP BY 1),
supply AS (SELECT area_id, sum(e) AS s FROM du WHERE role = 'area_total' GROUP BY 1),
sales AS (SELECT area_id, sum(e) AS s FROM du WHERE role = 'customer' AND area_id IS NOT NULL GROUP BY 1),
thieves AS (SELECT c.area_id, count(*) AS n, sum(CAST(json_extract(t.detail, '$.stolen_kwh') AS DOUBLE)) AS stolen
            FROM t JOIN c ON c.customer_id = t.entity_id WHERE t.kind LIKE 'theft%' GROUP BY 1),
touched AS (SELECT area_id FROM thieves
            UNION SELECT json_extract_string(detail, '$.true_area_id') FROM t WHERE kind = 'data_mapping_error'
            UNION SELECT json_extract_string(detail, '$.recorded_area_id') FROM t WHERE kind = 'data_mapping_error'
            UNION SELECT c.area_id FROM t JOIN c ON c.customer_id = t.entity_id
                  WHERE t.kind IN ('staff_wrong_multiplier', 'contract_suspended_use')),
touched_areas AS (SELECT area_id FROM touched WHERE area_id IS NOT NULL)
SELECT supply.area_id, 100 * (supply.s - sales.s) / supply.s AS loss_pct, coalesce(thieves.n, 0) AS thieves,
       100 * coalesce(thieves.stolen, 0) / supply.s AS stolen_pct,
       supply.area_id IN (SELECT area_id FROM touched_areas) AS touched
FROM supply JOIN sales USING (area_id) JOIN cover USING (area_id) LEFT JOIN thieves USING (area_id)
WHERE cover.share >= 0.95
"""


@pytest.fixture(scope="module")
def loss(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyRelation:
    out = tmp_path_factory.mktemp("phys")
    generate(SynthConfig(customers=8000, months=3, start="2024-06", seed=21), out)
    con = duckdb.connect()
    con.execute("CREATE TABLE loss AS " + LOSS_SQL.format(d=out))
    return con


def test_clean_areas_have_technical_loss_only(loss: duckdb.DuckDBPyConnection) -> None:
    n, med = loss.execute("SELECT count(*), median(loss_pct) FROM loss WHERE NOT touched").fetchall()[0]
    assert n >= 10
    assert 2.0 <= med <= 8.0


def test_theft_raises_area_loss(loss: duckdb.DuckDBPyConnection) -> None:
    clean = loss.execute("SELECT median(loss_pct) FROM loss WHERE NOT touched").fetchall()[0][0]
    n, hot = loss.execute("SELECT count(*), median(loss_pct) FROM loss WHERE thieves >= 6").fetchall()[0]
    assert n >= 2
    assert hot > clean + 3.0


def test_stolen_energy_shows_up_as_loss(loss: duckdb.DuckDBPyConnection) -> None:
    # area supply does not fall with theft: loss minus the stolen share is back to technical loss
    n, med = loss.execute("SELECT count(*), median(loss_pct - stolen_pct) FROM loss WHERE stolen_pct >= 2").fetchall()[
        0
    ]
    assert n >= 2
    assert 1.0 <= med <= 8.0
