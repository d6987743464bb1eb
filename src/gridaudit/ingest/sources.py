"""Finding the sources of an ingest: files and folders given on the command line, and their tables."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

from gridaudit.contract.spec import AmbiguousName, load_contract
from gridaudit.ingest.errors import SourceProblem, UnusableSource
from gridaudit.ingest.mapping import Mapping

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet",)


@dataclass
class Source:
    """One table's worth of input: a CSV or Parquet file, or a sheet of a workbook."""

    path: Path
    name: str
    kind: str  # csv | xlsx | parquet
    table: str
    sheet: str | None = None
    sha256: str = ""
    encoding: str = ""
    size: int = 0
    blank_lines: list[int] = field(default_factory=list)
    expected_rows: int | None = None  # rows the reader should yield, when known in advance (fast path)

    def record(self) -> dict[str, object]:
        """What the manifest keeps about this source."""
        return {
            "path": self.name,
            "table": self.table,
            "kind": self.kind,
            "sha256": self.sha256,
            "bytes": self.size,
            **({"sheet": self.sheet} if self.sheet else {}),
            **({"encoding": self.encoding} if self.encoding else {}),
        }


def ambiguous(source: str, exc: AmbiguousName) -> SourceProblem:
    """The problem of a file or sheet name that names two tables equally well."""
    tables = ", ".join(exc.tables)
    return SourceProblem(
        source,
        f"名称同时对应多张表 ({tables}); 请改名或用 --mapping 指定",
        f"the name stands for more than one table ({tables}); rename it or use --mapping",
    )


def skipped_file(source: str) -> SourceProblem:
    """The warning for a file found in a folder whose name names no table."""
    return SourceProblem(
        source,
        "已跳过: 文件名不对应任何表 (可用 --mapping 指定)",
        "skipped: its name names no table (use --mapping to place it)",
    )


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return None


def discover(paths: list[Path], mapping: Mapping, skipped: list[Path] | None = None) -> list[Source]:
    """Expand files and folders into sources with their tables; any file that cannot be placed is a problem.

    A file found inside a given folder whose name names no table (a readme, ``truth.csv``) is appended to
    ``skipped`` instead, when that list is given; a file named on the command line must always place.

    Workbooks are expanded into one source per sheet later (:func:`gridaudit.ingest.xlsx.sheet_sources`).
    """
    problems: list[SourceProblem] = []
    found: list[Source] = []
    for given in paths:
        if not given.exists():
            problems.append(SourceProblem(str(given), "文件或文件夹不存在", "no such file or folder"))
            continue
        if given.is_dir():
            files = sorted(
                p for p in given.rglob("*") if p.is_file() and _kind(p) and not p.name.startswith((".", "~$"))
            )
            if not files:
                problems.append(
                    SourceProblem(
                        str(given),
                        "文件夹中没有 CSV、XLSX 或 Parquet 文件",
                        "folder holds no CSV, XLSX or Parquet file",
                    )
                )
        else:
            files = [given]
        for f in files:
            kind = _kind(f)
            if kind is None and stat.S_ISFIFO(f.stat().st_mode):
                kind = "csv"
            if kind is None:
                problems.append(
                    SourceProblem(
                        str(f),
                        "不支持的文件类型 (支持 .csv .txt .tsv .xlsx .parquet)",
                        "unsupported file type (use .csv .txt .tsv .xlsx .parquet)",
                    )
                )
                continue
            try:
                table = mapping.table_for(f.name)
                if table is None and f.parent != given.parent:
                    table = mapping.table_for(f.parent.name)  # a folder of parts named after its table
            except AmbiguousName as exc:
                problems.append(ambiguous(str(f), exc))
                continue
            if table is None and kind != "xlsx" and skipped is not None and f != given:
                skipped.append(f)
                continue
            if table is None and kind != "xlsx":
                hint = load_contract().table_names_hint()
                problems.append(
                    SourceProblem(
                        str(f),
                        "无法从文件名判断是哪张表; 文件名中须含表名或其中文名 (如 抄表示数_202402.csv), "
                        f"或用 --mapping 指定. 可用的表: {hint}",
                        "cannot tell the table from the file name; the name must contain a table's name or "
                        f"Chinese name (e.g. 抄表示数_202402.csv, readings-2024-02.csv) or use --mapping. "
                        f"Tables: {hint}",
                    )
                )
                continue
            found.append(Source(path=f, name=str(f), kind=kind, table=table or ""))
    if problems:
        raise UnusableSource(problems)
    return found
