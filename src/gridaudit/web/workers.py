"""The app of one uvicorn worker process (``gridaudit serve --workers N``).

uvicorn starts worker processes from an import string, so the settings travel in the environment variable
``SETTINGS_ENV`` (JSON, :func:`gridaudit.web.settings.settings_to_json`) and each worker builds its own app with
:func:`app`. Every worker then has its own dataset engines and caches; what must be shared lives in the case
store: browser sessions, login throttling, the audit trail (``gridaudit.web.sessions``), so a request may land
on any worker.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from gridaudit.web.settings import settings_from_json

SETTINGS_ENV = "GRIDAUDIT_WEB_SETTINGS"


def app() -> FastAPI:
    """The app for the settings in ``SETTINGS_ENV`` (uvicorn's ``factory=True``)."""
    from gridaudit.web.app import create_app

    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with gridaudit serve --workers N")
    return create_app(settings_from_json(text))
