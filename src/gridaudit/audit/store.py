"""The case store: a SQLite file (default) or a PostgreSQL database, migrated by alembic on open.

``--store`` accepts a path (a ``.db``/``.sqlite`` file, or a folder that gets ``cases.db``) or a URL
(``postgresql://…`` is run through psycopg 3). Attachments live in a folder next to a SQLite store,
or in ``attachments`` (default ``./gridaudit-attachments``) for a PostgreSQL store.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridaudit.audit.errors import AuditError, Conflict, StoreMissing

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_STORE = "gridaudit-cases.db"
DEFAULT_PG_ATTACHMENTS = "gridaudit-attachments"


@dataclass
class Store:
    """An open case store: SQLAlchemy engine and session factory, plus the attachment folder."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    attachments: Path

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction per command: commit on success; roll back everything on any error.

        A concurrent change to the same task (stale version) becomes ``Conflict`` with a clear message.
        """
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm.exc import StaleDataError

        from gridaudit.audit import ledger

        session = self.sessions()
        try:
            with session.begin():
                yield session
                ledger.seal(session)  # every row changed here is sealed in the trail before commit
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


def _store_text(target: str | os.PathLike | None) -> str:
    """The ``--store`` value as given, else ``$GRIDAUDIT_STORE``, else the default file."""
    return str(target) if target is not None else os.environ.get("GRIDAUDIT_STORE", DEFAULT_STORE)


def sqlite_path(target: str | os.PathLike | None) -> Path | None:
    """The SQLite file a ``--store`` value names (a folder means its ``cases.db``), or None for a URL."""
    text = _store_text(target)
    if "://" in text:
        return None
    path = Path(text)
    if path.suffix.lower() not in (".db", ".sqlite", ".sqlite3"):
        path = path / "cases.db"
    return path


def store_url(target: str | os.PathLike | None) -> tuple[str, Path | None]:
    """Turn a ``--store`` value into a SQLAlchemy URL and, for SQLite, its attachment folder (nothing is created)."""
    path = sqlite_path(target)
    if path is None:
        text = _store_text(target)
        if text.startswith("postgresql://") or text.startswith("postgres://"):
            text = "postgresql+psycopg://" + text.split("://", 1)[1]
        return text, None
    return f"sqlite:///{path}", path.with_name(path.stem + "-attachments")


def _shown(url: str) -> str:
    """A store URL fit to show: the password masked."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _missing(target: object, url: str) -> AuditError:
    where = _shown(str(target) if target is not None else url)
    return StoreMissing(
        f"案件库 {where} 不存在，未创建任何内容；新建请用 gridaudit audit init --store {where}",
        f"case store {where} does not exist; nothing was created. Create one with gridaudit audit init --store {where}",
    )


def _has_store(engine: object) -> bool:
    """Whether the database already holds a gridaudit case store (its alembic version table and log head)."""
    from sqlalchemy import inspect

    names = set(inspect(engine).get_table_names())
    return {"audit_alembic_version", "audit_log_head"} <= names


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


def migrate(engine: Engine) -> None:
    """Bring the store's schema to the newest alembic revision (shipped inside the package)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "gridaudit.audit:migrations")
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw: Any = conn.connection.driver_connection  # the DB-API connection (SQLAlchemy types it Any | None)
        if sqlite:  # SQLite's documented way to rebuild tables: foreign keys off outside the transaction
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                if not sqlite:
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74211)")  # one migrator at a time
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise AuditError(
                        "迁移后外键不一致，已回滚", "foreign keys inconsistent after migration; rolled back"
                    )
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")
    from gridaudit.audit import ledger

    ledger.forget(engine)


def open_store(
    target: str | os.PathLike | None = None, attachments: str | os.PathLike | None = None, *, create: bool = False
) -> Store:
    """Open the case store at ``target``, bringing its schema to the newest revision.

    A store that does not exist is an error (``StoreMissing``, nothing created) unless ``create`` is
    true (``gridaudit audit init`` and the demo), so a mistyped ``--store`` never makes a new empty store."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from gridaudit.audit import indicator_records  # noqa: F401 - tables in their own module, registered on Base

    url, default_attachments = store_url(target)
    path = sqlite_path(target)
    if path is not None:
        if not path.is_file() and not create:
            raise _missing(target, url)
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = None
    try:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            _sqlite_setup(engine)
        if not create and not _has_store(engine):
            raise _missing(target, url)
        migrate(engine)
    except Exception as exc:  # noqa: BLE001 - any failure to open is reported the same way
        if engine is not None:
            engine.dispose()
        if isinstance(exc, AuditError):
            raise
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        where = _shown(str(target) if target is not None else url)
        raise AuditError(f"无法打开案件库 {where}: {reason}", f"cannot open the case store {where}: {reason}") from exc
    folder = Path(attachments) if attachments else default_attachments or Path(DEFAULT_PG_ATTACHMENTS)
    sessions = sessionmaker(engine, expire_on_commit=False)
    from gridaudit.audit import ledger

    ledger.install(sessions)
    return Store(url=url, engine=engine, sessions=sessions, attachments=folder)
