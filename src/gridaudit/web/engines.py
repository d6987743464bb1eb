"""One dataset engine per worker, a fork per request: ``DatasetEngines``.

Opening an engine makes a view per table and describes each (DuckDB: tens to a hundred milliseconds on a real
dataset; PostgreSQL: the dataset is loaded into a schema); doing it per request made every data page pay it.
The app keeps one engine per dataset version (``app.state.engines``), opened by
:func:`gridaudit.engines.open_engine` with the web settings' :class:`~gridaudit.engines.EngineSettings`
(DuckDB by default). A request gets :meth:`~gridaudit.engines.Engine.fork` of it: the same tables through a
connection of its own (DuckDB: a cursor; PostgreSQL: a new connection on the same schema), so its temporary
and registered tables stay its own. When ``CURRENT`` names a new version (``gridaudit ingest`` wrote one), the
next request opens an engine on it; the old one is closed once its last request has ended. ``close`` (app
shutdown) closes them all.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from gridaudit.dataset import CURRENT, Dataset, open_dataset
from gridaudit.engines import Engine, EngineSettings, open_engine


@dataclass
class _Slot:
    engine: Engine
    users: int = 0
    retired: bool = False


class DatasetEngines:
    """The shared engines of one dataset folder (thread-safe); ``settings`` says which engine (DuckDB by
    default, with no memory limit of its own)."""

    def __init__(self, folder: str | Path, settings: EngineSettings | None = None) -> None:  # noqa: D107
        self.folder = Path(folder)
        self.settings = settings or EngineSettings(memory_limit=None)
        self._lock = threading.Lock()
        self._slots: dict[str, _Slot] = {}  # version → its engine (the current one and retired ones in use)
        self._current: str | None = None
        self.opened = 0  # engines opened so far (tests and the benchmark read it)

    def _version(self) -> str:
        pointer = self.folder / CURRENT
        try:
            return pointer.read_text("utf-8").strip()
        except OSError:
            return open_dataset(self.folder).version  # raises the dataset's own clear error

    def settings_for(self, version: str) -> EngineSettings:
        """The engine settings of one dataset version: PostgreSQL loads each version into a schema of its own
        (``gridaudit_web_<folder hash>_<version>``, or ``<postgres_schema>_<version>``), so a new version never
        replaces the tables an older one's requests still read, and two apps on one server do not collide."""
        if self.settings.kind != "postgres":
            return self.settings
        prefix = self.settings.postgres_schema
        if prefix is None:
            digest = hashlib.sha1(str(self.folder.resolve()).encode("utf-8")).hexdigest()[:8]
            prefix = f"gridaudit_web_{digest}"
        return replace(self.settings, postgres_schema=f"{prefix}_{version}")

    def _slot(self) -> tuple[str, _Slot]:
        """The current version and its slot, opened when new (held: ``users`` counted; release it)."""
        version = self._version()
        with self._lock:
            slot = self._slots.get(version)
            if slot is None or slot.retired:
                dataset: Dataset = open_dataset(self.folder, version)
                slot = _Slot(open_engine(dataset, self.settings_for(version)))
                self.opened += 1
                self._slots[version] = slot
            if self._current is not None and self._current != version:
                self._retire(self._current)
            self._current = version
            slot.users += 1
        return version, slot

    def warm(self) -> None:
        """Open the current version's engine now (``gridaudit serve`` does, so a server that cannot be reached
        or a dataset that cannot be loaded fails at start, not on the first page)."""
        version, slot = self._slot()
        self._release(version, slot)

    def _acquire(self) -> tuple[str, _Slot, Engine]:
        version, slot = self._slot()
        try:
            return version, slot, slot.engine.fork()  # the slot is held: it cannot be closed meanwhile
        except BaseException:
            self._release(version, slot)
            raise

    def _retire(self, version: str) -> None:
        slot = self._slots.get(version)
        if slot is None:
            return
        slot.retired = True
        if slot.users == 0:
            slot.engine.close()
            del self._slots[version]

    def _release(self, version: str, slot: _Slot) -> None:
        with self._lock:
            slot.users -= 1
            if slot.retired and slot.users == 0:
                slot.engine.close()
                if self._slots.get(version) is slot:
                    del self._slots[version]

    @contextmanager
    def cursor(self) -> Iterator[Engine]:
        """An engine for one request on the dataset's current version (a fork of the shared one, closed at the
        end)."""
        version, slot, engine = self._acquire()
        try:
            yield engine
        finally:
            engine.close()
            self._release(version, slot)

    def close(self) -> None:
        """Close every engine (app shutdown); a later request opens a new one."""
        with self._lock:
            for slot in self._slots.values():
                slot.engine.close()
            self._slots.clear()
            self._current = None
