"""The dataset folder: staged versions, atomic publish, carried-over tables, side folders."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from gridaudit.dataset import (
    DatasetError,
    commit_version,
    discard_version,
    is_dataset,
    open_dataset,
    stage_version,
    versions,
)


def _table(n: int) -> pa.Table:
    return pa.table({"meter_id": [f"M{i}" for i in range(n)], "kwh": [float(i) for i in range(n)]})


def test_versions_are_published_atomically_and_carried_over(tmp_path: Path):
    root = tmp_path / "ds"
    assert not is_dataset(root)
    with pytest.raises(DatasetError):
        open_dataset(root)
    s1 = stage_version(root)
    s1.write_table("meters", _table(3))
    s1.write_table("daily_usage", _table(5))
    (s1.path / "_quarantine").mkdir()
    s1.write_table("_quarantine/daily_usage", _table(1))
    d1 = commit_version(s1, {"sources": [{"path": "x.csv", "sha256": "00"}]})
    assert d1.version == "v0001" and d1.tables() == ["daily_usage", "meters"]  # side folders are not tables
    assert d1.rows("daily_usage") == 5 and d1.manifest["sources"][0]["path"] == "x.csv"
    s2 = stage_version(root)
    assert s2.parent is not None and s2.parent.version == "v0001"
    s2.link_from_parent("meters")
    s2.write_table("daily_usage", _table(7))
    d2 = commit_version(s2, {})
    assert versions(root) == ["v0001", "v0002"] and open_dataset(root).version == "v0002"
    assert (d2.path / "meters.parquet").stat().st_ino == (d1.path / "meters.parquet").stat().st_ino
    assert open_dataset(root, "v0001").read("daily_usage").num_rows == 5
    assert d2.read("daily_usage").num_rows == 7 and d2.manifest["parent"] == "v0001"


def test_discarded_and_stale_staging_leave_current_version(tmp_path: Path):
    root = tmp_path / "ds"
    s1 = stage_version(root)
    s1.write_table("meters", _table(2))
    commit_version(s1, {})
    s2 = stage_version(root)
    s2.write_table("meters", _table(9))
    discard_version(s2)
    assert open_dataset(root).read("meters").num_rows == 2
    stale = stage_version(root)  # as if the writer was killed: never committed nor discarded
    stale.write_table("meters", _table(9))
    s3 = stage_version(root)  # the next writer removes it
    assert not stale.path.exists() and s3.path.exists()
    assert open_dataset(root).version == "v0001"


def test_dataset_lock_is_portable_exclusive_and_leaves_no_new_folder(tmp_path: Path):
    import subprocess
    import sys

    from gridaudit.dataset import DatasetBusy, lock_dataset

    root = tmp_path / "new"
    with lock_dataset(root):
        assert (root / ".ingest.lock").exists()
        holder = (
            "import sys; from gridaudit.dataset import lock_dataset, DatasetBusy\n"
            "try:\n    lock_dataset(sys.argv[1]).__enter__()\nexcept DatasetBusy:\n    sys.exit(3)\n"
        )
        other = subprocess.run([sys.executable, "-c", holder, str(root)], env={"PYTHONPATH": "src"}, check=False)
        assert other.returncode == 3  # another process is refused while the lock is held
        with pytest.raises(DatasetBusy):
            lock_dataset(root).__enter__()
    assert not root.exists()  # created for nothing: removed with its lock file
    s = stage_version(tmp_path / "kept")
    commit_version(s, {})
    with lock_dataset(tmp_path / "kept"):
        pass
    assert is_dataset(tmp_path / "kept")


def test_dataset_code_uses_no_posix_only_calls():
    import inspect

    import gridaudit.dataset as dataset
    import gridaudit.ingest.pipeline as pipeline
    import gridaudit.ingest.run as run

    for mod in (dataset, pipeline, run):
        src = inspect.getsource(mod)
        for call in ("fcntl", "os.rename(", "O_RDONLY", "os.mkfifo"):
            assert call not in src, (mod.__name__, call)


def test_replacing_swaps_in_a_whole_file_or_keeps_the_old_one(tmp_path):
    import pyarrow.parquet as pq

    from gridaudit.dataset import replacing, write_parquet, write_text

    target = tmp_path / "sub" / "t.parquet"
    write_parquet(pa.table({"a": [1, 2]}), target)
    assert pq.read_table(target).column("a").to_pylist() == [1, 2]
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("killed mid-write")
    assert pq.read_table(target).column("a").to_pylist() == [1, 2]  # the old file, untouched
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.parquet"]  # no temporary left behind
    write_text(tmp_path / "note.txt", "新")
    assert (tmp_path / "note.txt").read_text("utf-8") == "新"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt", "sub"]
