"""``POST /api/v1/sql``: one read-only SELECT over the dataset (the SQL console's sandbox, limits and trail)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gridaudit.dataset import open_dataset
from gridaudit.sqlconsole import run_query
from gridaudit.web.deps import CurrentUser, csrf_protect, get_settings, get_store
from gridaudit.web.reads import dataset_dir, jsonable

router = APIRouter(tags=["sql"])


class SqlRequest(BaseModel):
    """The query to run."""

    sql: str = Field(max_length=100_000, description="one SELECT (DuckDB dialect) over the dataset's tables")


@router.post("/sql", dependencies=[Depends(csrf_protect)])
def api_sql(request: Request, body: SqlRequest, user: CurrentUser) -> dict[str, Any]:
    """Run the query: ``columns``, ``types``, ``rows`` (lists), ``truncated`` (more rows than ``row_cap``),
    ``elapsed_ms``. Refused, failed or timed-out queries are a 400 with the reason; the query is in the trail
    either way. Auditors and audit leads whose unit scope covers the dataset only (403 otherwise)."""
    result = run_query(
        get_store(request), user.user_id, open_dataset(dataset_dir(request)), body.sql, get_settings(request).console
    )
    return {
        "columns": result.table.column_names,
        "types": [str(f.type) for f in result.table.schema],
        "rows": jsonable(result.rows()),
        "truncated": result.truncated,
        "row_cap": result.row_cap,
        "elapsed_ms": result.elapsed_ms,
    }
