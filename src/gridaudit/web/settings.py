"""Settings of one web app instance (``gridaudit serve``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridaudit.i18n import LANGS
from gridaudit.sqlconsole import DEFAULT_CONSOLE, ConsoleSettings


@dataclass(frozen=True)
class WebSettings:
    """What ``create_app`` needs.

    * ``dataset``: the dataset folder pages read through ``DuckDBEngine`` (None: pages needing data say so);
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

    def __post_init__(self) -> None:
        if self.lang not in LANGS:
            raise ValueError(f"unknown language {self.lang!r}: use zh or en")
        if self.idle_minutes <= 0:
            raise ValueError("idle_minutes must be positive")
