"""``gridaudit rules``: list, show, run and test the SQL rule catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.cli_options import (
    engine_option,
    engine_settings,
    list_option,
    memory_limit_option,
    month_option,
    open_dataset_or_exit,
    open_engine_or_exit,
    out_file_option,
    pg_option,
    repeat_option,
    spark_conf_option,
    spark_data_option,
    spark_master_option,
    threads_option,
)
from gridaudit.console import EXIT_REJECTED, console, die, err_console, example, progress_bar
from gridaudit.i18n import both, msg

rules_app = typer.Typer(
    help="SQL audit rules: list, show, run, test (稽查规则库).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def register(app: typer.Typer) -> None:
    """Add the ``rules`` command group to the root app."""
    app.add_typer(rules_app, name="rules")


def _catalog(extra: list[Path] | None) -> list[Any]:
    """The built-in catalog plus ``extra`` folders; warns (stderr) for each built-in rule an extra one replaces."""
    from gridaudit.rules.loader import RuleError, load_catalog, replacement_notes

    try:
        rules = load_catalog(extra=list(extra or []))
    except RuleError as exc:
        die(str(exc))
    for note in replacement_notes(rules):
        err_console.print(f"[yellow]{msg('警告', 'warning')}[/]: {note}", highlight=False, soft_wrap=True)
    return rules


def _text(t: Any) -> str:
    return msg(t)  # a rule's Text(zh, en)


@rules_app.command("list", epilog=example("gridaudit rules list", "gridaudit rules list --family billing"))
def list_rules(
    family: str = typer.Option(None, "--family", help="Only this family (reading, billing, ...) / 只列出该规则族"),
    catalog: list[Path] | None = repeat_option("--catalog", "Extra rule folder (repeat) / 附加规则目录"),
) -> None:
    """List the rules in the catalog (列出规则)."""
    from rich.table import Table

    from gridaudit.rules.loader import RuleError, select_rules

    rules = _catalog(catalog)
    try:
        rules = select_rules(rules, family=family)
    except RuleError as exc:
        die(str(exc))
    table = Table(title=msg(f"规则 {len(rules)} 条", f"{len(rules)} rules"))
    table.add_column("id", no_wrap=True)
    for col in (msg("规则族", "family"), msg("严重度", "severity"), msg("对象", "entity"), msg("名称", "title")):
        table.add_column(col)
    for r in rules:
        h = r.header
        table.add_row(r.id, h.family, h.severity, h.entity_type, _text(h.title))
    console.print(table)


@rules_app.command("show", epilog=example("gridaudit rules show reading_estimated_vs_ami"))
def show_rule(
    rule_id: str = typer.Argument(..., help="Rule id / 规则编号"),
    catalog: list[Path] | None = repeat_option("--catalog", "Extra rule folder (repeat) / 附加规则目录"),
) -> None:
    """Show one rule's metadata, parameters and SQL (查看规则)."""
    from rich.syntax import Syntax

    rules = {r.id: r for r in _catalog(catalog)}
    if rule_id not in rules:
        die(both(f"未知规则：{rule_id}", f"unknown rule: {rule_id}"))
    r = rules[rule_id]
    h = r.header
    console.print(f"[bold]{r.id}[/] — {h.title.zh} / {h.title.en}")
    console.print(f"family={h.family} severity={h.severity} entity_type={h.entity_type} tables={', '.join(h.tables)}")
    if h.derived:  # shared per-run tables the rule reads (catalog/_derived/<name>.sql)
        console.print(f"derived={', '.join(h.derived)}")
    console.print(f"lookback={_lookback_text(h.lookback)}")  # what an incremental --period run reads
    console.print(f"{msg('说明', 'description')}: {_text(h.description)}")
    if h.basis:
        console.print(f"{msg('依据', 'basis')}: {h.basis}")
    if h.truth_kinds:
        console.print(f"truth_kinds: {', '.join(h.truth_kinds)}")
    for name, p in h.params.items():
        console.print(f"  ${name} ({p.type}, default {p.default!r}): {_text(p.doc)}")
    for name, value in h.fixed.items():  # set by the template instance, not by --set
        console.print(f"  ${name} = {value!r} ({msg('模板实例固定', 'fixed by the template instance')})")
    console.print(f"{msg('文件', 'file')}: {r.path}")
    console.print(Syntax(r.sql, "sql", word_wrap=True))


def _lookback_text(spec: Any) -> str:
    """A rule's look-back as its header writes it (``all`` also when undeclared)."""
    if spec is None or spec == "all":
        return "all"
    parts = [f"{k}: {v}" for k, v in (("months", spec.months), ("days", spec.days)) if v not in (0, "0")]
    return "{" + (", ".join(parts) or "months: 0") + "}"


def parse_sets(items: list[str]) -> dict[str, dict[str, str]]:
    """``ID.param=value`` strings → {rule_id: {param: value}} (values coerced later by each rule)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        rule_id, dot, param = key.partition(".")
        if not sep or not dot or not rule_id or not param:
            die(both(f"--set 格式应为 规则.参数=值：{item!r}", f"--set must be RULE.param=value, got {item!r}"))
        out.setdefault(rule_id.strip(), {})[param.strip()] = value.strip()
    return out


@rules_app.command(
    "run",
    epilog=example(
        "gridaudit rules run --dataset ds",
        "gridaudit rules run --dataset ds --family billing --period 2024-03 "
        "--set billing_virtual_qty.tolerance_pct=0.05 --out f.parquet",
        "gridaudit rules run --dataset ds --engine postgres --pg postgresql://postgres@127.0.0.1/test",
        "gridaudit rules run --dataset big --memory-limit 8GB --threads 2",
        "gridaudit rules run --dataset /mnt/shared/ds --engine spark --spark-master spark://10.0.0.5:7077",
        "gridaudit rules run --dataset ds --period 2024-12 --full-history",
    ),
)
def run_cmd(
    dataset: Annotated[Path, typer.Option("--dataset", help="Dataset folder / 数据集目录")],
    out: Path | None = out_file_option("Also write the findings to this Parquet file / 另存问题清单"),
    only: list[str] | None = list_option("--only", "Only these rule ids (repeat or a,b) / 只运行这些规则"),
    family: str = typer.Option(None, "--family", help="Only this family / 只运行该规则族"),
    period: str | None = month_option("--period", "Billing month YYYY-MM / 电费年月"),
    engine: str = engine_option(),
    pg: str | None = pg_option(),
    spark_master: str = spark_master_option(),
    spark_data: str | None = spark_data_option(),
    spark_conf: list[str] | None = spark_conf_option(),
    sets: list[str] | None = repeat_option("--set", "Override a parameter: RULE.param=value (repeat) / 覆盖参数"),
    catalog: list[Path] | None = repeat_option("--catalog", "Extra rule folder (repeat) / 附加规则目录"),
    memory_limit: str = memory_limit_option(),
    threads: int | None = threads_option(),
    full_history: bool = typer.Option(
        False,
        "--full-history",
        help="With --period: read the whole history, not each rule's look-back window / 读取全部历史数据",
    ),
) -> None:
    """Run rules on a dataset; the run is appended to the dataset's findings store (运行稽查规则).

    The findings go to DATASET/findings/ with the run's provenance (see `gridaudit findings runs`);
    --out writes an extra copy. With --period each rule reads only the months its look-back needs
    (an incremental monthly run, docs/rules.md); --full-history reads everything."""

    from rich.table import Table

    from gridaudit.findings import FindingsStoreError, append_run
    from gridaudit.findings.store import copy_run, now_utc
    from gridaudit.rules.loader import RuleError, select_rules
    from gridaudit.rules.record import rules_provenance
    from gridaudit.rules.runner import run_rules

    settings = engine_settings(engine, pg, spark_master, memory_limit, threads, spark_data, spark_conf)
    ds = open_dataset_or_exit(dataset)
    if period:
        from gridaudit.ingest.info import period_outside_data

        if why := period_outside_data(ds, period):
            die(why)
    rules = _catalog(catalog)
    try:
        rules = select_rules(rules, only=only or None, family=family)
    except RuleError as exc:
        die(str(exc))
    if not rules:
        die(both("没有可运行的规则", "no rules selected"))
    eng = open_engine_or_exit(ds, settings)
    overrides = parse_sets(sets or [])
    started = now_utc()
    try:
        with progress_bar(transient=False) as bar:
            task = bar.add_task(msg("运行规则", "running rules"), total=len(rules))

            def tick(rule: Any, report: Any) -> None:
                bar.update(task, advance=1, description=f"{rule.id} ({report.status})")

            derived: list[Any] = []
            try:
                findings, reports = run_rules(
                    eng,
                    rules,
                    period=period,
                    overrides=overrides,
                    progress=tick,
                    derived_log=derived,
                    incremental=bool(period) and not full_history,
                )
            except RuleError as exc:
                die(str(exc))
    finally:
        eng.close()
    prov = rules_provenance(
        rules,
        overrides,
        reports,
        engine=engine,
        started_at=started,
        ended_at=now_utc(),
        dataset_version=ds.version,
        derived=derived,
        scope={"only": only, "family": family, "period": period, "incremental": bool(period) and not full_history},
    )
    try:
        run = append_run(ds.root, findings, prov)
    except (FindingsStoreError, OSError) as exc:
        die(both(f"无法写入问题库：{exc}", f"cannot write the findings store: {exc}"))
    if out is not None:
        copy_run(run, out)
    colors = {"ok": "green", "skipped": "yellow", "error": "red"}
    if derived:  # built once, shared by the rules that read them: not rules, they have no hits
        built = Table(title=msg("已构建的派生表", "derived tables built"), title_justify="left")
        for col in (
            msg("派生表", "derived table"),
            msg("状态", "status"),
            msg("耗时 s", "seconds"),
            msg("说明", "message"),
        ):
            built.add_column(col)
        for r in derived:
            built.add_row(r.rule_id, f"[{colors[r.status]}]{r.status}[/]", f"{r.seconds:.2f}", r.message)
        console.print(built)
    table = Table(title=msg(f"规则运行结果（{engine}）", f"rule results ({engine})"))
    for col in ("rule", msg("状态", "status"), msg("命中", "hits"), msg("耗时 s", "seconds"), msg("说明", "message")):
        table.add_column(col)
    for r in reports:
        table.add_row(r.rule_id, f"[{colors[r.status]}]{r.status}[/]", str(r.hits), f"{r.seconds:.2f}", r.message)
    console.print(table)
    errors = sum(r.status == "error" for r in reports)
    where_zh = f"问题库运行 {run.run_id}" + (f" 与 {out}" if out else "")
    where_en = f"store run {run.run_id}" + (f" and {out}" if out else "")
    if not errors:
        console.print(
            msg(f"共 {len(findings)} 条问题，写入{where_zh}", f"{len(findings)} findings written to {where_en}")
        )
        return
    console.print(
        msg(
            f"{errors} 条规则出错或被拒绝（见上表）；其余规则的 {len(findings)} 条问题已写入{where_zh}；退出码 1",
            f"{errors} rules failed or were refused (see the table); the {len(findings)} findings of the rules "
            f"that ran were written to {where_en}; exit code 1",
        ),
        style="red",
    )
    raise typer.Exit(EXIT_REJECTED)


@rules_app.command(
    "test",
    epilog=example(
        "gridaudit rules test",
        "gridaudit rules test --catalog my_rules/ --only my_rule",
        "gridaudit rules test --only billing_virtual_qty --update",
    ),
)
def test_cmd(
    only: list[str] | None = list_option("--only", "Only these rule ids (repeat or a,b) / 只测试这些规则"),
    catalog: list[Path] | None = repeat_option(
        "--catalog", "Extra rule folder, fixtures beside it (repeat) / 附加规则目录"
    ),
    fixtures: list[Path] | None = repeat_option(
        "--fixtures", "Extra fixture root(s): <root>/<rule_id>/fixture*.yaml (repeat) / 附加样例目录"
    ),
    update: bool = typer.Option(
        False,
        "--update",
        help="Rewrite each fixture's expect with the rows the rule returns now (after a reviewed change) "
        "/ 按当前结果改写样例的期望行",
    ),
) -> None:
    """Run every rule's fixtures on DuckDB; --update rewrites their expected rows (运行规则测试样例)."""
    from gridaudit.rules.harness import run_all_fixtures, update_all_fixtures
    from gridaudit.rules.loader import RuleError, select_rules

    rules = _catalog(catalog)
    try:
        rules = select_rules(rules, only=only or None)
        if update:
            changes = update_all_fixtures(rules, roots=list(fixtures or []))
            for change in changes:
                if change.changed:
                    console.print("\n".join(change.describe()), highlight=False, markup=False, soft_wrap=True)
            n = sum(c.changed for c in changes)
            console.print(
                msg(
                    f"改写 {n} 个样例，{len(changes) - n} 个未变", f"{n} fixtures updated, {len(changes) - n} unchanged"
                )
            )
        results = run_all_fixtures(rules, roots=list(fixtures or []))
    except RuleError as exc:
        die(str(exc))
    failed = [r for r in results if not r.ok]
    for r in failed:
        console.print(f"[red]FAIL[/] {r.describe()}", highlight=False)
    console.print(
        msg(
            f"{len(results) - len(failed)}/{len(results)} 个样例通过（{len(rules)} 条规则）",
            f"{len(results) - len(failed)}/{len(results)} fixtures passed ({len(rules)} rules)",
        )
    )
    if failed:
        raise typer.Exit(EXIT_REJECTED)


@rules_app.command(
    "new",
    epilog=example(
        "gridaudit rules new theft_night_use --family theft --catalog my_rules",
        "gridaudit rules new billing_my_check --family billing --entity bill --catalog my_rules",
    ),
)
def new_cmd(
    rule_id: str = typer.Argument(..., help="New rule id, prefixed by its family / 新规则编号"),
    family: str = typer.Option(..., "--family", help="Rule family (reading, billing, ...) / 规则族"),
    entity: str = typer.Option("customer", "--entity", help="Entity type of its findings / 问题对象类型"),
    catalog: Annotated[Path, typer.Option("--catalog", help="Catalog folder to write into / 规则目录")] = Path("rules"),
) -> None:
    """Write a rule skeleton and its fixture, ready for rules check and rules test (新建规则骨架)."""
    from gridaudit.rules.authoring import new_rule
    from gridaudit.rules.loader import RuleError, load_catalog

    try:
        rule_path, fixture_path = new_rule(catalog, rule_id, family, entity)
        builtin = {r.id: r.path for r in load_catalog()}
    except RuleError as exc:
        die(str(exc))
    console.print(msg(f"已写入规则 {rule_path}", f"rule written to {rule_path}"), highlight=False, soft_wrap=True)
    console.print(
        msg(f"已写入样例 {fixture_path}", f"fixture written to {fixture_path}"), highlight=False, soft_wrap=True
    )
    if rule_id in builtin:
        console.print(
            f"[yellow]{msg('警告', 'warning')}[/]: "
            + both(
                f"{rule_path} 将替换内置规则 {builtin[rule_id]}",
                f"{rule_path} replaces the built-in {builtin[rule_id]}",
            ),
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        msg(
            f"下一步：编辑两个文件，然后 gridaudit rules check --catalog {catalog}，"
            f"gridaudit rules test --catalog {catalog} --only {rule_id}",
            f"next: edit both files, then gridaudit rules check --catalog {catalog} and "
            f"gridaudit rules test --catalog {catalog} --only {rule_id}",
        ),
        highlight=False,
        soft_wrap=True,
    )


@rules_app.command("check", epilog=example("gridaudit rules check", "gridaudit rules check --catalog my_rules"))
def check_cmd(
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Catalog folder to check (default: built-in) / 规则目录")
    ] = None,
) -> None:
    """Validate a catalog without running it: metadata, SQL, safety, output columns, params, fixtures (检查规则库)."""
    from gridaudit.rules.authoring import check_catalog

    problems = check_catalog(catalog)
    for p in problems:
        console.print(f"[red]{msg('问题', 'problem')}[/] {p}", highlight=False, soft_wrap=True)
    where = catalog or msg("内置规则库", "the built-in catalog")
    if problems:
        console.print(msg(f"{where}：{len(problems)} 个问题", f"{where}: {len(problems)} problems"), highlight=False)
        raise typer.Exit(EXIT_REJECTED)
    console.print(msg(f"{where}：检查通过", f"{where}: no problems"), highlight=False)
