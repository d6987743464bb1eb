"""The evidence pack of a task (证据包) as a download, PDF or HTML, for a user who sees the task: the same
``build_evidence`` and ``render`` as ``gridaudit audit evidence``, and the same ``evidence`` trail event."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gridaudit.web.deps import CurrentUser, StoreSession, get_settings

router = APIRouter()
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


@router.get("/tasks/{task_id}/evidence.{fmt}")
def evidence_pack(request: Request, task_id: int, fmt: str, user: CurrentUser, s: StoreSession) -> Response:
    """Task ``task_id``'s evidence pack (``fmt``: pdf or html) in the page's language, sent as a file."""
    from gridaudit.audit import trail
    from gridaudit.audit.errors import AuditError, NotFound
    from gridaudit.charts import CjkFontError
    from gridaudit.reports.evidence import build_evidence
    from gridaudit.reports.evidence_render import render
    from gridaudit.reports.fonts import FontNotFound
    from gridaudit.reports.pdf import PdfError
    from gridaudit.web.render import lang_of

    if fmt not in MEDIA:
        raise NotFound(f"证据包格式应为 pdf 或 html：{fmt}", f"an evidence pack is pdf or html, not {fmt}")
    dataset = get_settings(request).dataset
    pack = build_evidence(s, task_id, user.user_id, dataset)  # unit scope: refused outside it
    try:
        data = render(pack, f".{fmt}", lang_of(request))
    except (PdfError, FontNotFound, CjkFontError) as exc:
        raise AuditError(f"无法生成证据包：{exc}", f"cannot produce the evidence pack: {exc}") from exc
    trail.append(s, user.user_id, "evidence", "task", task_id, {"out": f"evidence.{fmt}", "via": "web"})
    name = f"task-{task_id}-evidence.{fmt}"
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})
