"""The SQL console (SQL 查询台), for auditors and audit leads whose scope covers the dataset: one read-only SELECT
through the rules' sandbox, with a time limit and a row cap; the result as a table or a CSV download. Every query
goes into the audit trail under the user (``gridaudit.sqlconsole``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from gridaudit.dataset import open_dataset
from gridaudit.sqlconsole import (
    CONSOLE_ROLES,
    ConsoleError,
    check_console_user,
    dataset_units,
    run_query,
)
from gridaudit.web.deps import CurrentUser, csrf_protect, get_settings, get_store
from gridaudit.web.reads import dataset_dir
from gridaudit.web.render import NavItem, render

router = APIRouter()


# the menu goes by role (NavItem); a unit-bound auditor or lead whose scope misses part of the dataset gets a
# 403 saying why (a per-user check here would need a second store transaction while the page's is open)
NAV = [NavItem("/sql", "SQL 查询", "SQL console", order=70, roles=CONSOLE_ROLES)]
SqlForm = Annotated[str, Form(max_length=100_000)]
EXAMPLE = "select unit_id, count(*) as customers\nfrom customers\ngroup by unit_id\norder by unit_id"


def _allowed(request: Request, user: Any) -> Any:
    """The dataset, once ``user`` is known to be allowed the console (else ``Forbidden``, a 403)."""
    dataset = open_dataset(dataset_dir(request))
    with get_store(request).transaction() as s:
        check_console_user(s, user.user_id, dataset_units(dataset))
    return dataset


def _page(request: Request, sql: str, status_code: int = 200, **ctx: Any) -> Response:
    tables = sorted(open_dataset(dataset_dir(request)).tables())
    limits = get_settings(request).console
    return render(request, "sql.html", status_code=status_code, sql=sql, tables=tables, limits=limits, **ctx)


@router.get("/sql")
def sql_page(request: Request, user: CurrentUser) -> Response:
    """The console's form (with an example query)."""
    _allowed(request, user)
    return _page(request, EXAMPLE)


@router.post("/sql", dependencies=[Depends(csrf_protect)])
def sql_run(request: Request, user: CurrentUser, sql: SqlForm = "") -> Response:
    """Run the query and show its rows, or a clear message why it did not run (400)."""
    dataset = _allowed(request, user)
    try:
        result = run_query(get_store(request), user.user_id, dataset, sql, get_settings(request).console)
    except ConsoleError as exc:
        return _page(request, sql, status_code=400, error=exc)
    return _page(request, sql, result=result)


@router.post("/sql.csv", dependencies=[Depends(csrf_protect)])
def sql_csv(request: Request, user: CurrentUser, sql: SqlForm = "") -> Response:
    """Run the query and send its rows as a CSV file (a refused or failed query shows the console with why)."""
    dataset = _allowed(request, user)
    try:
        result = run_query(get_store(request), user.user_id, dataset, sql, get_settings(request).console)
    except ConsoleError as exc:
        return _page(request, sql, status_code=400, error=exc)
    headers = {"Content-Disposition": 'attachment; filename="query.csv"'}
    if result.truncated:
        headers["X-Rows-Truncated"] = str(result.row_cap)
    return Response(result.csv(), media_type="text/csv; charset=utf-8", headers=headers)
