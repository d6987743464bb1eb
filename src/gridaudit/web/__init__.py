"""The web app (FastAPI, server-rendered Jinja2 pages, a JSON API under /api/v1). See ``gridaudit.web.app``."""
