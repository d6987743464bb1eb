"""One dataset engine per worker, a cursor per request: ``DatasetEngines``.

Opening a ``DuckDBEngine`` makes a view per table and DESCRIBEs each (tens to a hundred milliseconds on a real
dataset); doing it per request made every data page pay it. The app keeps one engine per dataset version
(``app.state.engines``): a request gets a ``CursorEngine``, the same views through its own
``con.cursor()`` (a DuckDB connection is not shared across threads; a cursor is a connection of its own to the
same database, so its temporary tables and registered tables stay its own). When ``CURRENT`` names a new version
(``gridaudit ingest`` wrote one), the next request opens an engine on it; the old one is closed once its last
request has ended. ``close`` (app shutdown) closes them all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gridaudit.dataset import CURRENT, Dataset, open_dataset
from gridaudit.engines.duckdb import DuckDBEngine


class CursorEngine(DuckDBEngine):
    """A ``DuckDBEngine`` whose connection is a cursor of a shared engine's connection (one request's)."""

    def __init__(self, shared: DuckDBEngine) -> None:  # noqa: D107 - the class docstring says it
        self.dataset = shared.dataset
        self.con = shared.con.cursor()


@dataclass
class _Slot:
    engine: DuckDBEngine
    users: int = 0
    retired: bool = False


class DatasetEngines:
    """The shared engines of one dataset folder (thread-safe)."""

    def __init__(self, folder: str | Path) -> None:  # noqa: D107 - the class docstring says it
        self.folder = Path(folder)
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

    def _acquire(self) -> tuple[str, _Slot, CursorEngine]:
        version = self._version()
        with self._lock:
            slot = self._slots.get(version)
            if slot is None or slot.retired:
                dataset: Dataset = open_dataset(self.folder, version)
                slot = _Slot(DuckDBEngine(dataset))
                self.opened += 1
                self._slots[version] = slot
            if self._current is not None and self._current != version:
                self._retire(self._current)
            self._current = version
            slot.users += 1
            return version, slot, CursorEngine(slot.engine)  # the cursor made under the lock, one at a time

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
    def cursor(self) -> Iterator[DuckDBEngine]:
        """An engine for one request on the dataset's current version (its own cursor, closed at the end)."""
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
