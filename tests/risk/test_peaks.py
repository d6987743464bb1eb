"""The peak-week features (drop*_age/pre/rec, cp_age, cpu_age) do not move with the last bits of a float sum.

DuckDB's parallel sums differ between runs in their last bits, so two weeks whose dip statistics are equal in exact
arithmetic come out a few ulps apart, either way round. The pk stage must treat them as tied (ties go to the latest
week) instead of taking whichever is larger in this run. The stages pkv and pk of the real feature query run here
on a hand-made weekly table ``wx``.
"""

from datetime import date

import duckdb
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.features import PEAK_TIE, feature_sql, split_ctes
from gridaudit.risk.settings import RiskSettings

WX_COLUMNS = ("t4", "pre4", "rec4", "t13", "pre13", "rec13", "t26", "pre26", "rec26", "cpt", "anom", "lowd")


@pytest.fixture(scope="module")
def peak_stages(sparse_ds) -> dict[str, str]:
    """The SQL of the stages pkv and pk, as the feature query of a real dataset has them."""
    root, _ = sparse_ds
    eng = DuckDBEngine(open_dataset(root))
    try:
        sql = feature_sql(eng, RiskSettings(), date(2023, 10, 27), date(2021, 1, 1))
    finally:
        eng.close()
    ctes, _ = split_ctes(sql)
    return {name: text for name, text in ctes if name in ("pkv", "pk")}


def _pk(peak_stages: dict[str, str], weeks: list[tuple[int, dict[str, float]]]) -> dict[str, float]:
    """pk's row for one snapshot (last week 100) whose weekly statistics are ``weeks`` (week, values)."""
    con = duckdb.connect()
    cols = ", ".join(f"{c} DOUBLE" for c in WX_COLUMNS)
    con.execute(f"CREATE TABLE wx (snap_id INTEGER, last_w INTEGER, w INTEGER, {cols})")
    for w, values in weeks:
        row = [values.get(c, 0.0) for c in WX_COLUMNS]
        con.execute(f"INSERT INTO wx VALUES (1, 100, {w}, {', '.join('?' * len(row))})", row)
    con.execute(f"CREATE TABLE pkv AS {peak_stages['pkv']}")
    rel = con.execute(peak_stages["pk"])
    names = [d[0] for d in rel.description]
    out = dict(zip(names, rel.fetchone(), strict=True))
    con.close()
    return out


def test_a_near_tie_goes_to_the_latest_week(peak_stages):
    """Two dips equal but for a few ulps (a relative 1.2e-15), either way round: the same week and values."""
    t = 6.25
    nudged = t * (1 - 4e-16 * 3)
    for first, second in ((t, nudged), (nudged, t)):
        got = _pk(
            peak_stages,
            [
                (60, {"t4": first, "pre4": 0.40, "rec4": 0.10, "cpt": 2.0}),
                (80, {"t4": second, "pre4": 0.40, "rec4": 0.10, "cpt": -3.0}),
                (90, {"t4": 1.0, "pre4": 0.90, "rec4": 0.90, "cpt": 0.5}),
            ],
        )
        assert got["drop4_age"] == 100 - 80
        assert got["drop4_pre"] == pytest.approx(0.40)
        assert got["cp_age"] == 100 - 60
        assert got["cpu_age"] == 100 - 80
        assert got["cpu_t"] == pytest.approx(3.0)


def test_a_real_difference_still_decides(peak_stages):
    """Weeks further apart than the tolerance are not tied: the larger dip wins even when it is the earlier."""
    t = 6.25
    got = _pk(
        peak_stages,
        [
            (60, {"t4": t, "pre4": 0.40, "rec4": 0.10}),
            (80, {"t4": t * (1 - 1000 * PEAK_TIE), "pre4": 0.70, "rec4": 0.20}),
        ],
    )
    assert got["drop4_age"] == 100 - 60
    assert got["drop4_pre"] == pytest.approx(0.40)
    assert got["drop4_rec"] == pytest.approx(0.10)
