"""Pages: every module here exposing ``router`` is included by ``create_app`` (see ``gridaudit.web.app``)."""
