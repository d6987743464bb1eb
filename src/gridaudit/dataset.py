"""The dataset folder: versioned Parquet tables, a manifest per version, an atomic swap.

Layout::

    DIR/
      CURRENT                 the name of the version in force (replaced atomically)
      versions/v0001/         one complete version: manifest.json + <table>.parquet or <table>/*.parquet
      versions/v0002/
      .staging-<id>/          a version being written (ignored by readers, removed on the next write)
      .ingest.lock            held by the one writer (:func:`lock_dataset`, the portable filelock package)

A new version is written into a staging folder beside the old ones, renamed into
``versions/`` and then made current by replacing ``CURRENT``. A crash or ``kill -9``
at any point leaves the previous version current and readable. Every path operation is portable
(``os.replace``, no POSIX-only calls), so a dataset is written the same way on Windows.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from gridaudit.i18n import both

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".ingest.lock"


class DatasetError(Exception):
    """A dataset folder that cannot be opened or written."""


class DatasetBusy(DatasetError):
    """Another writer holds the dataset's lock."""


class DatasetLock:
    """The one-writer lock of a dataset folder (``DIR/.ingest.lock``), usable as a context manager.

    The folder is created if missing; when it was created here and still holds nothing but the lock file on
    release (the write failed before staging anything), it is removed again, so a failed first ingest leaves
    no folder behind. A second writer is refused at once (:class:`DatasetBusy`), not queued.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.created = False
        self._lock: FileLock | None = None

    def __enter__(self) -> DatasetLock:
        self.created = not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / LOCK), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise DatasetBusy(
                both(f"{self.root}：另一个写入进程持有 {LOCK}，请稍后再试", f"{self.root}: another writer holds {LOCK}")
            ) from None
        self._lock = lock
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Release the lock; remove a folder created for nothing (it holds only the lock file)."""
        if self._lock is None:
            return
        self._lock.release()
        self._lock = None
        if self.created and {p.name for p in self.root.iterdir()} <= {LOCK}:
            (self.root / LOCK).unlink(missing_ok=True)
            try:
                self.root.rmdir()
            except OSError:
                pass  # someone put something there meanwhile: leave it


def lock_dataset(root: str | Path) -> DatasetLock:
    """The writer lock of the dataset at ``root``: ``with lock_dataset(root): ...`` (see :class:`DatasetLock`)."""
    return DatasetLock(root)


@dataclass(frozen=True)
class Dataset:
    """One version of a dataset folder, opened for reading."""

    root: Path
    version: str
    manifest: dict[str, Any]

    @property
    def path(self) -> Path:
        """The folder holding this version's Parquet tables."""
        return self.root / "versions" / self.version

    def tables(self) -> list[str]:
        """Names of the tables present in this version (contract tables and ``failure_cases``)."""
        return sorted(self.manifest.get("tables", {}))

    def has(self, table: str) -> bool:
        """Whether this version holds ``table``."""
        return table in self.manifest.get("tables", {})

    def table_path(self, table: str) -> Path:
        """The file or folder holding ``table`` (a single Parquet file or a folder of parts)."""
        if not self.has(table):
            raise DatasetError(
                both(
                    f"{self.root}：版本 {self.version} 中没有表 {table!r}",
                    f"{self.root}: table {table!r} is not in version {self.version}",
                )
            )
        single = self.path / f"{table}.parquet"
        return single if single.exists() else self.path / table

    def table_glob(self, table: str) -> str:
        """A path or glob that DuckDB's ``read_parquet`` and Spark accept for ``table``."""
        p = self.table_path(table)
        return str(p) if p.is_file() else str(p / "*.parquet")

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """Read ``table`` whole into Arrow (for small tables and tests; engines stream instead)."""
        return pq.read_table(self.table_path(table), columns=columns)

    def rows(self, table: str) -> int:
        """Row count of ``table`` recorded in the manifest."""
        return int(self.manifest["tables"][table]["rows"])


def versions(root: Path) -> list[str]:
    """Complete versions in a dataset folder, oldest first."""
    vdir = Path(root) / "versions"
    if not vdir.is_dir():
        return []
    return sorted(p.name for p in vdir.iterdir() if (p / MANIFEST).is_file())


def open_dataset(root: str | Path, version: str | None = None) -> Dataset:
    """Open the current (or a named) version of the dataset at ``root``."""
    root = Path(root)
    if version is None:
        pointer = root / CURRENT
        if not pointer.is_file():
            raise DatasetError(
                both(
                    f"{root} 不是 gridaudit 数据集（没有 {CURRENT} 文件）；请先运行 `gridaudit ingest`",
                    f"{root}: not a gridaudit dataset (no {CURRENT} file); run `gridaudit ingest` first",
                )
            )
        version = pointer.read_text("utf-8").strip()
    mpath = root / "versions" / version / MANIFEST
    if not mpath.is_file():
        raise DatasetError(
            both(f"{root}：版本 {version} 缺少 {MANIFEST}", f"{root}: version {version} has no {MANIFEST}")
        )
    return Dataset(root=root, version=version, manifest=json.loads(mpath.read_text("utf-8")))


def is_dataset(root: str | Path) -> bool:
    """Whether ``root`` holds a current dataset version."""
    return (Path(root) / CURRENT).is_file()


@dataclass
class StagedVersion:
    """A version being written. Put tables into ``path``; call :func:`commit_version` to publish it."""

    root: Path
    path: Path
    parent: Dataset | None

    def write_table(self, table: str, data: pa.Table) -> Path:
        """Write ``data`` as ``<table>.parquet`` in the staging folder."""
        out = self.path / f"{table}.parquet"
        pq.write_table(data, out, compression="zstd")
        return out

    def link_from_parent(self, table: str) -> None:
        """Carry ``table`` over unchanged from the parent version (hard links; copies if links fail)."""
        if self.parent is None:
            raise DatasetError(both("没有可沿用表的上一版本", "no parent version to carry tables from"))
        src = self.parent.table_path(table)
        dst = self.path / src.name
        if src.is_file():
            _link_or_copy(src, dst)
        else:
            dst.mkdir()
            for part in sorted(src.iterdir()):
                _link_or_copy(part, dst / part.name)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def stage_version(root: str | Path) -> StagedVersion:
    """Start a new version of the dataset at ``root`` (created if missing); stale staging folders are removed."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    path = root / f".staging-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    parent = open_dataset(root) if is_dataset(root) else None
    return StagedVersion(root=root, path=path, parent=parent)


def table_rows(path: Path) -> int:
    """Row count of a Parquet file or folder of parts, from the footers."""
    files = [path] if path.is_file() else sorted(path.glob("*.parquet"))
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def commit_version(staged: StagedVersion, manifest: dict[str, Any]) -> Dataset:
    """Publish a staged version: write its manifest, rename it into ``versions/``, swap ``CURRENT``.

    ``manifest`` gives sources, reject counts and anything else to record; the table list and row
    counts are read from the staged files themselves.
    """
    root = staged.root
    tables: dict[str, dict[str, Any]] = {}
    for p in sorted(staged.path.iterdir()):
        name = p.name.removesuffix(".parquet")
        if p.name == MANIFEST or p.name.startswith("_"):
            continue  # "_quarantine/" and other side folders are not tables
        tables[name] = {"rows": table_rows(p), "layout": "file" if p.is_file() else "parts"}
    existing = versions(root)
    number = int(existing[-1].lstrip("v")) + 1 if existing else 1
    version = f"v{number:04d}"
    full = {
        "format": "gridaudit-dataset/1",
        "version": version,
        "parent": staged.parent.version if staged.parent else None,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "tables": tables,
    }
    write_text(staged.path / MANIFEST, json.dumps(full, ensure_ascii=False, indent=2, default=str))
    (root / "versions").mkdir(exist_ok=True)
    final = root / "versions" / version
    os.replace(staged.path, final)
    write_text(root / CURRENT, version + "\n")
    fsync_dir(root)
    return open_dataset(root)


def discard_version(staged: StagedVersion) -> None:
    """Throw a staged version away (``--strict`` with failures, or an error mid-ingest)."""
    shutil.rmtree(staged.path, ignore_errors=True)


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    with open(path, "r+b") as fh:  # writable: Windows cannot flush a read-only handle
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename) to disk where the OS allows opening a folder (not on Windows)."""
    try:
        fd = os.open(path, getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # Windows: folders cannot be opened; NTFS journals the rename itself
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Write a file atomically: yield a temporary path beside ``path``; when the block ends normally it is
    flushed to disk and renamed onto ``path`` (``os.replace``, portable), otherwise removed.

    The one way gridaudit replaces a file (Parquet, JSON, XLSX, CSV, a copied attachment): a crash or
    ``kill -9`` leaves either the old file or the new one, never half of one. The temporary name starts
    with a dot and ends in ``.tmp``, so folder listings and globs such as ``*.parquet`` skip it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        fsync_file(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(table: pa.Table, path: str | Path) -> Path:
    """Write ``table`` to ``path`` as zstd Parquet, atomically (:func:`replacing`); returns ``path``."""
    with replacing(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path``, atomically (:func:`replacing`); returns ``path``."""
    with replacing(path) as tmp:
        tmp.write_text(text, "utf-8")
    return Path(path)
