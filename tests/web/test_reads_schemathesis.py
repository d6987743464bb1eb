"""schemathesis on the findings, rules and SQL operations with a token of an auditor allowed the SQL console
(the suite in test_schemathesis.py uses a unit-bound lead, who gets a 403 from /sql): no server error."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import make_app

PATHS = ("/api/v1/findings", "/api/v1/rules", "/api/v1/rules/{rule_id}", "/api/v1/sql")


@pytest.fixture
def hq_app(web_store, web_dataset):
    """The app plus a bearer token of ``hq``, an auditor bound to no unit."""
    from gridaudit.audit.credentials import issue_token
    from gridaudit.audit.users import add_user

    application = make_app(web_store, web_dataset)
    with application.state.store.transaction() as s:
        add_user(s, "admin", "hq", "总部稽查", "auditor")
    with application.state.store.transaction() as s:
        application.state.test_token = issue_token(s, "admin", "hq")
    yield application
    application.state.store.dispose()


def test_no_server_error_on_the_read_operations(hq_app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", hq_app)
    operations = [r.ok() for r in schema.get_all_operations()]
    mine = [op for op in operations if op.path in PATHS]
    assert {op.path for op in mine} == set(PATHS)
    seen: set[int] = set()
    headers = {"Authorization": f"Bearer {hq_app.state.test_token}"}
    for operation in mine:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            response = case.call(headers=headers)
            seen.add(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])

        check()
    assert {200, 400} <= seen, seen
