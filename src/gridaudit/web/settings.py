"""Settings of one web app instance (``gridaudit serve``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from gridaudit.engines import EngineSettings
from gridaudit.i18n import LANGS
from gridaudit.sqlconsole import DEFAULT_CONSOLE, ConsoleSettings


@dataclass(frozen=True)
class WebSettings:
    """What ``create_app`` needs.

    * ``dataset``: the dataset folder pages read (None: pages needing data say so);
    * ``engine``: the engine the pages read it on (:class:`~gridaudit.engines.EngineSettings`: DuckDB by
      default, without a memory limit of its own; ``postgres`` loads each dataset version into a schema);
    * ``store``: the case store (``--store``: a SQLite file/folder or a ``postgresql://`` URL);
    * ``attachments``: attachment folder (None: next to a SQLite store, see ``audit.store``);
    * ``idle_minutes``: a session unused this long ends (the user logs in again);
    * ``secure_cookies``: send the session cookie only over HTTPS (behind a TLS reverse proxy);
    * ``lang``: language of a visitor who has not chosen one (zh or en);
    * ``login_attempts`` failed logins per ``login_window_s`` seconds, per username and client address;
    * ``console``: the SQL console's time limit and row cap (``sqlconsole.ConsoleSettings``).
    * ``rewards``: the tip reward setting file (docs/tips.md; None: the default setting).
    """

    store: str
    dataset: Path | None = None
    attachments: Path | None = None
    idle_minutes: int = 30
    secure_cookies: bool = False
    lang: str = "zh"
    login_attempts: int = 5
    login_window_s: int = 60
    console: ConsoleSettings = DEFAULT_CONSOLE
    rewards: Path | None = None
    engine: EngineSettings = field(default_factory=lambda: EngineSettings(memory_limit=None))

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"unknown language {self.lang!r}: use zh or en")
        if self.idle_minutes <= 0:
            raise ValueError("idle_minutes must be positive")


PATH_FIELDS = ("dataset", "attachments", "rewards")


def settings_to_json(settings: WebSettings) -> str:
    """``settings`` as JSON text (how ``gridaudit serve --workers N`` hands them to each worker process)."""
    data = asdict(settings)
    for name in PATH_FIELDS:
        data[name] = None if data[name] is None else str(data[name])
    return json.dumps(data)


def settings_from_json(text: str) -> WebSettings:
    """The settings :func:`settings_to_json` wrote (unknown keys are an error: a worker of another version)."""
    data = json.loads(text)
    known = {f.name for f in fields(WebSettings)}
    extra = set(data) - known
    if extra:
        raise ValueError(f"unknown web settings: {', '.join(sorted(extra))}")
    for name in PATH_FIELDS:
        if data.get(name) is not None:
            data[name] = Path(data[name])
    if data.get("console") is not None:
        data["console"] = ConsoleSettings(**data["console"])
    if data.get("engine") is not None:
        data["engine"] = EngineSettings(**data["engine"])
    return WebSettings(**data)
