"""The REST API: every module here exposing ``router`` is included under /api/v1 (see ``gridaudit.web.app``)."""
