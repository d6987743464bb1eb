"""The chart runtime: the Vega / Vega-Lite / vega-embed bundle vl-convert-python ships, served from the app
itself (``/runtime/vega.js``; nothing loads from a CDN and no third-party JavaScript is in the repository)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from gridaudit.charts.render import runtime_js

router = APIRouter()


@router.get("/runtime/vega.js")
def vega_runtime() -> Response:
    """The bundle (built once per process; cached by browsers for a day, the URL carries its version)."""
    return Response(
        runtime_js(),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )
