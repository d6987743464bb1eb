"""Errors that make a source unusable (exit status 2): they name the file, the row and the column."""

from __future__ import annotations

from dataclasses import dataclass

from gridaudit.i18n import both


@dataclass
class SourceProblem:
    """Why a source cannot be used at all: a missing required column, an empty or binary file, ..."""

    source: str
    zh: str
    en: str
    row: int | None = None
    column: str | None = None

    def text(self) -> str:
        """The problem as one bilingual line naming file, row and column."""
        where_zh = (
            self.source + (f" 第 {self.row} 行" if self.row else "") + (f" 列 {self.column}" if self.column else "")
        )
        where_en = (
            self.source + (f", row {self.row}" if self.row else "") + (f", column {self.column}" if self.column else "")
        )
        return both(f"{where_zh}: {self.zh}", f"{where_en}: {self.en}")


class UnusableSource(Exception):
    """One or more sources cannot be ingested; nothing is written."""

    def __init__(self, problems: list[SourceProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.text() for p in problems))


def unusable(source: str, zh: str, en: str, row: int | None = None, column: str | None = None) -> UnusableSource:
    """Build an :class:`UnusableSource` for a single problem."""
    return UnusableSource([SourceProblem(source, zh, en, row, column)])


def engine_message(exc: BaseException) -> str:
    """A DuckDB error as a person reads it: its first line, without the SQL text or the caret line under it."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return first.split("LINE ")[0].strip()


def vanished(source: str) -> UnusableSource:
    """The source was deleted, replaced or changed while it was being read (nothing is written)."""
    return unusable(
        source,
        "文件在读取过程中消失或被修改; 数据集未改动",
        "the file vanished or changed while being read; the dataset was not touched",
    )
