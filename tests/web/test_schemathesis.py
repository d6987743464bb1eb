"""schemathesis against /api/v1/openapi.json, in-process (ASGI): no generated request makes the server fail
(5xx), with a valid bearer token and without one."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from .conftest import make_app


@pytest.fixture
def api_app(web_store, web_dataset):
    """The app plus a bearer token of an audit lead."""
    from gridaudit.audit.credentials import issue_token

    application = make_app(web_store, web_dataset)
    with application.state.store.transaction() as s:
        application.state.test_token = issue_token(s, "admin", "lead1")
    yield application
    application.state.store.dispose()


def test_no_server_error(api_app):
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 3
    seen: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            for headers in ({"Authorization": f"Bearer {api_app.state.test_token}"}, {}):
                response = case.call(headers=headers)
                seen.add(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])

        check()
    assert {200, 401} <= seen, seen  # the calls did reach the handlers, with and without the token
