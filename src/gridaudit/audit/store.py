"""The case store: a SQLite file (default) or a PostgreSQL database, migrated by alembic on open.

``--store`` accepts a path (a ``.db``/``.sqlite`` file, or a folder that gets ``cases.db``) or a URL
(``postgresql://…`` is run through psycopg 3). Attachments live in a folder next to a SQLite store,
or in ``attachments`` (default ``./gridaudit-attachments``) for a PostgreSQL store.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gridaudit.audit.errors import AuditError, Conflict

DEFAULT_STORE = "gridaudit-cases.db"
DEFAULT_PG_ATTACHMENTS = "gridaudit-attachments"


@dataclass
class Store:
    """An open case store: SQLAlchemy engine and session factory, plus the attachment folder."""

    url: str
    engine: object
    sessions: object
    attachments: Path

    @contextmanager
    def transaction(self) -> Iterator[object]:
        """One transaction per command: commit on success; roll back everything on any error.

        A concurrent change to the same task (stale version) becomes ``Conflict`` with a clear message.
        """
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm.exc import StaleDataError

        session = self.sessions()
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise Conflict(
                "记录已被他人同时修改，本次操作未保存任何内容；请刷新后重试",
                f"the record was changed by someone else at the same time; nothing of this command "
                f"was saved, reload and retry ({exc})",
            ) from exc
        except IntegrityError as exc:
            raise Conflict(
                f"与同时写入的数据冲突，本次操作未保存任何内容；请重试（{exc.orig}）",
                f"conflicts with data stored meanwhile; nothing of this command was saved, retry ({exc.orig})",
            ) from exc
        finally:
            session.close()

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()


def store_url(target: str | os.PathLike | None) -> tuple[str, Path | None]:
    """Turn a ``--store`` value into a SQLAlchemy URL and, for SQLite, its attachment folder."""
    text = str(target) if target is not None else os.environ.get("GRIDAUDIT_STORE", DEFAULT_STORE)
    if "://" in text:
        if text.startswith("postgresql://") or text.startswith("postgres://"):
            text = "postgresql+psycopg://" + text.split("://", 1)[1]
        return text, None
    path = Path(text)
    if path.suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
        path.mkdir(parents=True, exist_ok=True)
        path = path / "cases.db"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}", path.with_name(path.stem + "-attachments")


def _sqlite_setup(engine: object) -> None:
    """SQLite: real transactions (BEGIN IMMEDIATE serialises writers), foreign keys on."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_con, _record) -> None:  # noqa: ANN001
        dbapi_con.isolation_level = None
        dbapi_con.execute("PRAGMA foreign_keys = ON")
        dbapi_con.execute("PRAGMA busy_timeout = 10000")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: object) -> None:
    """Bring the store's schema to the newest alembic revision (shipped inside the package)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "gridaudit.audit:migrations")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74211)")  # one migrator at a time
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(target: str | os.PathLike | None = None, attachments: str | os.PathLike | None = None) -> Store:
    """Open (creating and migrating if needed) the case store at ``target``."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    url, default_attachments = store_url(target)
    try:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            _sqlite_setup(engine)
        migrate(engine)
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported the same way
        if isinstance(exc, AuditError):
            raise
        raise AuditError(f"无法打开案件库 {target}: {exc}", f"cannot open the case store {target}: {exc}") from exc
    folder = Path(attachments) if attachments else default_attachments or Path(DEFAULT_PG_ATTACHMENTS)
    sessions = sessionmaker(engine, expire_on_commit=False)
    return Store(url=url, engine=engine, sessions=sessions, attachments=folder)
