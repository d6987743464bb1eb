"""One convention for command-line options, used by every CLI module (docs/cli.md).

* ``--out FILE`` is always a file; ``--out-dir DIR`` is always a folder (:func:`out_file_option`,
  :func:`out_dir_option`).
* A short flag has one meaning in the whole CLI (:data:`SHORT_FLAGS`).
* A filter that takes several values accepts both ``--x a --x b`` and ``--x a,b`` (:func:`list_option`);
  options whose values may contain commas (paths, ``KEY=VALUE`` pairs) repeat only (:func:`repeat_option`).
* Dates (``YYYY-MM-DD``), months (``YYYY-MM``) and periods (``YYYY-MM`` or ``YYYY-MM..YYYY-MM``) are parsed
  here, once, with one bilingual error naming the option (exit 2).
* Old spellings keep working as hidden deprecated aliases (:data:`DEPRECATED`), rewritten before parsing
  by :mod:`gridaudit.strict_options` with a warning on stderr.

Every factory marks the option with its kind (:data:`KIND_ATTR`) so tests/test_cli_options.py can walk the
command tree and check the convention for every option.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gridaudit.console import die
from gridaudit.i18n import both

if TYPE_CHECKING:
    from gridaudit.dataset import Dataset
    from gridaudit.engines import Engine, EngineSettings

KIND_ATTR = "gridaudit_kind"  # set on typer's OptionInfo; read back as param.type_descriptor.parameter_info
KINDS = ("date", "month", "period", "list", "repeat", "out_file", "out_dir")

# every short flag of the CLI and the one long option it stands for
SHORT_FLAGS: dict[str, str] = {
    "-d": "--dataset",
    "-n": "--customers",
    "-m": "--months",
    "-f": "--format",
    "-t": "--table",
    "-q": "--quiet",
    "-s": "--scores",
    "-l": "--labels",
}

# the naming rule tests/test_cli_options.py checks: an option with one of these names is a date / a month
DATE_NAMES = frozenset({"--today", "--on", "--date", "--as-of", "--until"})  # and any option whose help says YYYY-MM-DD
MONTH_NAMES = frozenset({"--month", "--period", "--start"})
# list filters: wherever these names filter, they take several values (repeat or a,b) ...
LIST_NAMES = frozenset(
    {"--family", "--rule", "--unit", "--entity-type", "--entity", "--staff", "--severity", "--status", "--run",
     "--analyzer", "--only", "--by"}
)  # fmt: skip
# ... except here, where the option is one value by design (a value to set, or a filter of one by its API)
SINGLE_VALUED: dict[tuple[str, ...], str] = {
    ("audit", "tasks", "assign", "--unit"): "the unit a task is assigned to",
    ("audit", "tasks", "list", "--unit"): "one unit and the units under it (as the web task list's unit filter)",
    ("audit", "users", "add", "--unit"): "the unit a user belongs to",
    ("audit", "plan", "create", "--entity-type"): "a plan targets one entity type",
    ("rules", "list", "--family"): "one family (gridaudit.rules.loader.select_rules)",
    ("rules", "run", "--family"): "one family (gridaudit.rules.loader.select_rules)",
    ("rules", "new", "--family"): "a new rule belongs to one family",
    ("rules", "new", "--entity"): "a new rule's findings are of one entity type",
    ("report", "monthly", "--unit"): "a report covers one unit and the units under it",
}

# old spellings, per command path: still accepted (hidden, with a warning), rewritten to the new option
DEPRECATED: dict[tuple[str, ...], dict[str, str]] = {
    ("demo",): {"--out": "--out-dir", "-o": "--out-dir"},
    ("synth",): {"--out": "--out-dir", "-o": "--out-dir"},
    ("loss",): {"--out": "--out-dir", "-o": "--out-dir"},
    ("audit", "export"): {"--xlsx": "--out"},
    ("ingest",): {"-m": "--mapping"},
    ("risk", "train"): {"-m": "--model"},
    ("risk", "score"): {"-m": "--model", "-n": "--top", "-o": "--out"},
    ("findings", "list"): {"-n": "--limit"},
}

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# ---------------------------------------------------------------- parsers


def parse_date(text: str, option: str) -> date:
    """``text`` as a date ``YYYY-MM-DD``; anything else exits 2 with a bilingual error naming ``option``."""
    try:
        if _DAY.fullmatch(text):  # fromisoformat alone also takes 20240105 and week dates: one form only
            return date.fromisoformat(text)
    except ValueError:
        pass
    die(both(f"{option} 应为日期 YYYY-MM-DD，而不是 {text!r}", f"{option} must be YYYY-MM-DD (a date), not {text!r}"))


def parse_month(text: str, option: str) -> str:
    """``text`` as a month ``YYYY-MM``; anything else exits 2 with a bilingual error naming ``option``."""
    if not _MONTH.fullmatch(text):
        die(both(f"{option} 应为月份 YYYY-MM，而不是 {text!r}", f"{option} must be YYYY-MM (a month), not {text!r}"))
    return text


def parse_period(text: str, option: str) -> str:
    """``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` (first not after last); anything else exits 2 naming ``option``."""
    first, sep, last = text.partition("..")
    if _MONTH.fullmatch(first) and (not sep or (_MONTH.fullmatch(last) and first <= last)):
        return text
    die(
        both(
            f"{option} 应为 YYYY-MM 或 YYYY-MM..YYYY-MM，而不是 {text!r}",
            f"{option} must be YYYY-MM or YYYY-MM..YYYY-MM, not {text!r}",
        )
    )


def day_value(value: date | str | None, option: str) -> date | None:
    """A date option's value: as :func:`date_option` parsed it, a str parsed by :func:`parse_date`, or None."""
    return parse_date(value, option) if isinstance(value, str) else value


def split_list(values: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """Values of a list filter: repeated (``--x a --x b``), comma-separated (``--x a,b``) or both; blanks dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [v.strip() for item in values for v in str(item).split(",") if v.strip()]


# ---------------------------------------------------------------- option factories


def _mark(info: Any, kind: str) -> Any:
    setattr(info, KIND_ATTR, kind)
    return info


def _typed(parse: Callable[[str, str], Any], option: str) -> Callable[[Any], Any]:
    def parser(value: Any) -> Any:
        return parse(value, option) if isinstance(value, str) else value

    parser.__qualname__ = f"{parse.__name__}[{option}]"
    return parser


def date_option(name: str, help: str, default: Any = None) -> Any:
    """A ``YYYY-MM-DD`` option (default-style: ``day: date | None = date_option("--on", "…")``)."""
    return _mark(typer.Option(default, name, parser=_typed(parse_date, name), metavar="YYYY-MM-DD", help=help), "date")


def month_option(name: str, help: str, default: Any = None) -> Any:
    """A ``YYYY-MM`` option (``...`` as default: required)."""
    return _mark(typer.Option(default, name, parser=_typed(parse_month, name), metavar="YYYY-MM", help=help), "month")


def period_option(name: str, help: str, default: Any = None) -> Any:
    """A ``YYYY-MM`` or ``YYYY-MM..YYYY-MM`` option."""
    return _mark(
        typer.Option(default, name, parser=_typed(parse_period, name), metavar="YYYY-MM[..YYYY-MM]", help=help),
        "period",
    )


def _split_callback(value: list[str] | None) -> list[str] | None:
    return split_list(value) if value else value


def list_option(name: str, help: str, default: Any = None) -> Any:
    """A list filter: repeat it or give a comma list; the value is the flat list (:func:`split_list`)."""
    return _mark(typer.Option(default, name, callback=_split_callback, metavar="A,B…", help=help), "list")


def repeat_option(name: str, help: str, default: Any = None) -> Any:
    """A repeatable option whose values may themselves hold commas (paths, ``KEY=VALUE``): repeat only."""
    return _mark(typer.Option(default, name, help=help), "repeat")


def out_file_option(help: str, default: Any = None) -> Any:
    """``--out FILE``: the file a command writes (always a file, never a folder)."""
    return _mark(typer.Option(default, "--out", metavar="FILE", help=help), "out_file")


def out_dir_option(help: str, default: Any = None) -> Any:
    """``--out-dir DIR``: the folder a command writes into (always a folder)."""
    return _mark(typer.Option(default, "--out-dir", metavar="DIR", help=help), "out_dir")


# ---------------------------------------------------------------- engine options (docs/engines.md)


def engine_option() -> Any:
    """``--engine duckdb|postgres|spark``: which engine an analyzer runs on (DuckDB by default)."""
    return typer.Option("duckdb", "--engine", help="duckdb | postgres | spark (docs/engines.md) / 查询引擎")


def pg_option() -> Any:
    """``--pg URL``: the PostgreSQL server of ``--engine postgres``."""
    return typer.Option(None, "--pg", help="PostgreSQL URL for --engine postgres / PostgreSQL 连接")


def spark_master_option() -> Any:
    """``--spark-master URL``: Spark's master for ``--engine spark`` (``local[*]`` by default)."""
    return typer.Option(
        "local[*]",
        "--spark-master",
        help="Spark master for --engine spark: local[*], spark://host:7077, yarn, k8s://… / Spark 集群地址",
    )


def spark_data_option() -> Any:
    """``--spark-data URI``: the dataset folder as a Spark cluster's executors read it (HDFS, S3, shared)."""
    return typer.Option(
        None,
        "--spark-data",
        help="The dataset folder as the Spark executors see it (hdfs://…, s3a://…, file:///shared/…) "
        "/ 集群读取数据集的位置",
    )


def spark_conf_option() -> Any:
    """``--spark-conf KEY=VALUE`` (repeat): extra Spark settings for ``--engine spark``."""
    return repeat_option("--spark-conf", "Extra Spark setting KEY=VALUE for --engine spark (repeat) / 附加 Spark 配置")


def memory_limit_option(default: str | None = "4GB") -> Any:
    """``--memory-limit``: DuckDB's memory limit (Spark: executor memory on a cluster, driver memory locally)."""
    return typer.Option(default, "--memory-limit", help="Engine memory limit (DuckDB; Spark executors) / 引擎内存上限")


def threads_option() -> Any:
    """``--threads N``: engine threads (DuckDB threads, Spark cores, PostgreSQL parallel workers)."""
    return typer.Option(None, "--threads", help="Engine threads (default: one per core) / 线程数")


def engine_settings(
    engine: str = "duckdb",
    pg: str | None = None,
    spark_master: str = "local[*]",
    memory_limit: str | None = "4GB",
    threads: int | None = None,
    spark_data: str | None = None,
    spark_conf: list[str] | None = None,
) -> Any:
    """The :class:`~gridaudit.engines.EngineSettings` the engine options give; a bad combination exits 2
    with a bilingual error naming the option."""
    from gridaudit.engines import EngineError, EngineSettings

    if engine == "postgres" and not pg:
        die(both("--engine postgres 需要 --pg URL", "--engine postgres needs --pg URL"))
    if engine != "spark" and (spark_master != "local[*]" or spark_data or spark_conf):
        die(
            both(
                "--spark-master/--spark-data/--spark-conf 只用于 --engine spark",
                "--spark-master/--spark-data/--spark-conf need --engine spark",
            )
        )
    conf: dict[str, str] = {}
    for item in spark_conf or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            die(both(f"--spark-conf 格式应为 键=值：{item!r}", f"--spark-conf must be KEY=VALUE, got {item!r}"))
        conf[key.strip()] = value.strip()
    try:
        return EngineSettings(
            kind=engine,
            postgres_url=pg,
            spark_master=spark_master,
            memory_limit=memory_limit,
            threads=threads,
            spark_data_root=spark_data,
            spark_conf=conf,
        )
    except EngineError as exc:
        die(str(exc))


def open_dataset_or_exit(dataset: str | Path | Dataset) -> Dataset:
    """``dataset`` opened (a folder) or as given (a :class:`~gridaudit.dataset.Dataset`); a folder that is not a
    dataset exits 2 with the dataset's own bilingual error."""
    from gridaudit.dataset import Dataset, DatasetError, open_dataset

    if isinstance(dataset, Dataset):
        return dataset
    try:
        return open_dataset(dataset)
    except DatasetError as exc:
        die(str(exc))


def open_engine_or_exit(dataset: str | Path | Dataset, settings: EngineSettings) -> Engine:
    """The engine ``settings`` names over ``dataset`` (a folder or an open dataset version), for a command:
    a folder that is not a dataset, or an engine that cannot start (server unreachable, loading failed), exits
    2 with a bilingual message naming the engine. The caller closes the engine; ``engine.dataset`` is the
    dataset version it reads."""
    from gridaudit.engines import open_engine

    ds = open_dataset_or_exit(dataset)
    try:
        return open_engine(ds, settings)
    except Exception as exc:  # noqa: BLE001 - a server or loading failure is reported, not a traceback
        die(both(f"无法启动引擎 {settings.kind}：{exc}", f"cannot start engine {settings.kind}: {exc}"))


def option_kind(param: Any) -> str | None:
    """The convention kind a factory gave a click parameter (None for a plain option)."""
    info = getattr(getattr(param, "type_descriptor", None), "parameter_info", None)
    return getattr(info, KIND_ATTR, None)


# ---------------------------------------------------------------- deprecated spellings


def rewrite_deprecated(path: tuple[str, ...], args: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """``args`` with the old spellings of command ``path`` replaced by the new ones, and the (old, new) used."""
    aliases = DEPRECATED.get(path)
    if not aliases:
        return list(args), []
    out: list[str] = []
    used: list[tuple[str, str]] = []
    rest = False
    for arg in args:
        if rest or arg == "--":
            rest = True
            out.append(arg)
            continue
        name, eq, value = arg.partition("=")
        if name in aliases:
            used.append((name, aliases[name]))
            arg = f"{aliases[name]}{eq}{value}"
        out.append(arg)
    return out, used


def deprecation_text(old: str, new: str) -> str:
    """The warning for an old option spelling."""
    return both(
        f"选项 {old} 已改为 {new}（见 docs/cli.md），旧写法将来会移除",
        f"option {old} is now {new} (see docs/cli.md); the old spelling will be removed",
    )
