"""What the findings, rules and SQL-console pages share with their API: the dataset, the findings query of a
request, and values made safe for JSON."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request

from gridaudit.audit.errors import AuditError
from gridaudit.audit.findings_view import FindingQuery, parse_query
from gridaudit.web.deps import get_settings

# query parameters the app itself uses on every page (the language switch), never a findings filter
APP_PARAMS = ("lang",)


def dataset_dir(request: Request) -> Path:
    """The app's dataset folder, or a clear refusal when the app was started without one."""
    folder = get_settings(request).dataset
    if folder is None:
        raise AuditError(
            "未配置数据集（gridaudit serve --dataset DIR）", "no dataset configured (gridaudit serve --dataset DIR)"
        )
    return Path(folder)


def findings_query(request: Request) -> FindingQuery:
    """The findings filters and page of a request's query string (bad values: ``FindingQueryError``, a 400)."""
    return parse_query(request.query_params.multi_items(), ignore=APP_PARAMS)


def jsonable(value: Any) -> Any:
    """``value`` with NaN/∞ as null, dates and times as ISO text, decimals as numbers, bytes as hex, recursively."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return jsonable(float(value))
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return str(value)
