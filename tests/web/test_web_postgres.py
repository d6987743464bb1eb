"""The dashboard, customer and area pages (and their API) served off PostgreSQL give what DuckDB gives (issue 18).

The same store and dataset are served twice in-process: by the default DuckDB app and by an app whose
``WebSettings.engine`` is PostgreSQL (the dataset version loaded into a schema of its own, a connection per
request). The API's JSON and the pages' chart data blocks must agree (floats to 1e-9 relative).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from tests.web.conftest import UNIT1, make_app, password

pytestmark = pytest.mark.postgres

BLOCK = re.compile(r'<script type="application/json" data-chart="chart-([a-z_]+)">(.*?)</script>', re.S)
SCHEMA = "ga_test_web"


def _close(a: Any, b: Any, where: str = "") -> None:
    """``a`` equals ``b``, floats to 1e-9 relative (sums may be added in another order)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), (where, a, b)
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (where, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (where, sorted(a), sorted(b) if isinstance(b, dict) else b)
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (where, len(a), b if not isinstance(b, list) else len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, (where, a, b)


def _client(app: Any, uid: str) -> Any:
    from fastapi.testclient import TestClient
    from tests.web.conftest import csrf_of

    c = TestClient(app, follow_redirects=False)
    c.__enter__()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": uid, "password": password(uid), "csrf_token": token, "next": ""})
    assert r.status_code == 303, r.text
    return c


@pytest.fixture()
def apps(web_store, web_dataset, pg_url):
    """(DuckDB client, PostgreSQL client, PostgreSQL app), logged in as UNIT1's lead."""
    from gridaudit.engines import EngineSettings

    duck = make_app(web_store, web_dataset)
    pg = make_app(
        web_store, web_dataset, engine=EngineSettings(kind="postgres", postgres_url=pg_url, postgres_schema=SCHEMA)
    )
    clients = [_client(duck, "lead1"), _client(pg, "lead1")]
    try:
        yield clients[0], clients[1], pg
    finally:
        for c in clients:
            c.__exit__(None, None, None)
        duck.state.store.dispose()
        pg.state.store.dispose()


def _ids(web_dataset) -> dict[str, str]:
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    eng = open_engine(open_dataset(web_dataset))
    try:
        sub = "(SELECT unit_id FROM units WHERE unit_id = $u OR parent_id = $u)"
        cid = eng.query(
            "SELECT c.customer_id FROM customers c JOIN meters m ON m.customer_id = c.customer_id "
            f"WHERE c.unit_id IN {sub} ORDER BY 1 LIMIT 1",
            {"u": UNIT1},
        ).column(0)[0]
        aid = eng.query(f"SELECT area_id FROM areas WHERE unit_id IN {sub} ORDER BY 1 LIMIT 1", {"u": UNIT1}).column(0)[
            0
        ]
        month = eng.query("SELECT strftime(MAX(day), '%Y-%m') FROM daily_usage").column(0)[0]
        return {"customer": str(cid), "area": str(aid), "month": str(month)}
    finally:
        eng.close()


def _responses(client: Any, paths: list[str]) -> dict[str, Any]:
    """Each path's response, computed afresh (the line-loss cache is per process: emptied first)."""
    from gridaudit.views.loss import clear_cache

    clear_cache()
    return {path: client.get(path) for path in paths}


def test_pages_and_api_on_postgres_equal_duckdb_and_the_schema_goes_at_shutdown(apps, web_dataset, pg_url):
    import psycopg

    from gridaudit.dataset import open_dataset

    duck, pg, pg_app = apps
    ids = _ids(web_dataset)
    api = [f"/api/v1/customers/{ids['customer']}", f"/api/v1/areas/{ids['area']}/loss?period={ids['month']}"]
    pages = [
        f"/dashboard?month={ids['month']}",
        f"/customers/{ids['customer']}",
        f"/areas/{ids['area']}?period={ids['month']}",
    ]
    got_all = _responses(pg, api + pages)  # PostgreSQL first: its area page computes line loss itself
    want_all = _responses(duck, api + pages)
    for path in api:
        want, got = want_all[path], got_all[path]
        assert want.status_code == 200 and got.status_code == 200, (path, got.text[:500])
        _close(want.json(), got.json(), path)
    for path in pages:
        want, got = want_all[path], got_all[path]
        assert want.status_code == 200 and got.status_code == 200, (path, got.text[:500])
        charts_want, charts_got = dict(BLOCK.findall(want.text)), dict(BLOCK.findall(got.text))
        assert charts_want and charts_want.keys() == charts_got.keys(), path
        for name in charts_want:
            _close(json.loads(charts_want[name]), json.loads(charts_got[name]), f"{path} {name}")
    assert pg.get("/customers/NO-SUCH-CUSTOMER?lang=en").status_code == 404
    engines = pg_app.state.engines
    assert [s.engine.name for s in engines._slots.values()] == ["postgres"] and engines.opened == 1
    version = open_dataset(web_dataset).version
    schema = f"{SCHEMA}_{version}"
    assert engines.settings_for(version).postgres_schema == schema

    def exists() -> bool:
        with psycopg.connect(pg_url) as con:
            found = con.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,))
            return found.fetchone() is not None

    assert exists()
    engines.close()  # app shutdown
    assert not exists()
