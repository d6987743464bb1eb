"""``gridaudit audit verify-log | assess | export | export-inspections | penalty``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, parse_day, run
from gridaudit.cli_options import date_option, month_option, out_file_option
from gridaudit.console import EXIT_REJECTED, console, die, err_console, example
from gridaudit.i18n import both, msg


@audit_app.command("verify-log", epilog=example("gridaudit audit verify-log --store cases.db"))
def verify_log(store: str = StoreOpt, user: str = UserOpt) -> None:
    """Re-check the audit trail's hash chain; exit 1 naming every edited, reordered or deleted event."""
    from gridaudit.audit.models import LogHead
    from gridaudit.audit.trail import verify_log as check

    n, problems, head = run(store, lambda s, _st: (*check(s), getattr(s.get(LogHead, 1), "hash", "")), user=user)
    if not problems:
        console.print(
            msg(
                f"稽查日志完好：{n} 个事件，哈希链一致，每条记录与其封存一致；链头哈希 {head}",
                f"audit trail intact: {n} events, hash chain holds, every row matches its seal; head hash {head}",
            ),
            highlight=False,
        )
        return
    for p in problems:
        err_console.print(f"[bold red]{p.where()}[/]: {msg(p.problem_zh, p.problem_en)}", highlight=False)
    err_console.print(
        msg(
            f"稽查日志被篡改：发现 {len(problems)} 处问题（共 {n} 个事件）",
            f"audit trail TAMPERED: {len(problems)} problems in {n} events",
        )
    )
    raise typer.Exit(EXIT_REJECTED)


def _assessment_table(rows: list) -> None:
    from rich.table import Table

    t = Table(
        title=msg(
            "考核（‰: 每千抄差错；按期: 按期整改率；追补¥: 追补电费；违约金¥: 违约使用电费；每元只计一次）",
            "assessment (‰ wrong reads per 1,000; on time: rectification rate; ¥ back-billing / penalty charge, "
            "each yuan once)",
        )
    )
    t.add_column(msg("对象", "who"), no_wrap=True, min_width=12)
    t.add_column(msg("任务", "tasks"), no_wrap=True)
    t.add_column(msg("确认", "conf."), no_wrap=True)
    t.add_column(msg("分类", "families"), overflow="fold")
    for name in ("‰", msg("按期", "on time"), msg("重复", "rep."), msg("追补¥", "¥ rec."), msg("违约金¥", "¥ pen.")):
        t.add_column(name, no_wrap=True)
    t.add_column(msg("升级", "esc."), no_wrap=True)
    rewards = any(r.rewards_yuan for r in rows)  # tip rewards (举报奖励), shown when there are any
    if rewards:
        t.add_column(msg("举报奖励¥", "¥ tip reward"), no_wrap=True)
    for r in rows:
        t.add_row(
            f"{msg('人员', 'staff') if r.level == 'staff' else msg('单位', 'unit')} {r.key}",
            str(r.tasks),
            str(r.confirmed),
            " ".join(f"{k}:{v}" for k, v in sorted(r.by_family.items())),
            "-" if r.error_rate is None else f"{r.error_rate:.2f}",
            "-" if r.on_time_rate is None else f"{r.on_time_rate:.0%}",
            str(r.repeats),
            f"{r.backbill_yuan:,.0f}",
            f"{r.penalty_yuan:,.0f}",
            str(r.escalations),
            *([f"{r.rewards_yuan:,.0f}"] if rewards else []),
        )
    console.print(t)


@audit_app.command(
    "assess",
    epilog=example(
        "gridaudit audit assess --month 2025-07",
        "gridaudit audit assess --month 2025-07 --dataset ds --json",
        "gridaudit audit assess --month 2025-07 --dataset ds --book --user lead",
    ),
)
def assess_command(
    month: str = month_option("--month", "Plan month YYYY-MM / 考核月份", default=...),
    dataset: Annotated[Path | None, typer.Option("--dataset", help="Dataset for reads per reader/unit")] = None,
    as_of: date | None = date_option("--as-of", "Deadlines counted as of this date (default today)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table"),
    book: bool = typer.Option(False, "--book", help="Book (publish) it: frozen in the store (audit lead, manager)"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Monthly assessment per staff member and unit (考核): findings, error rates, on-time rectification, money."""
    from gridaudit.audit.assess import assess, assessment_record, book_assessment

    day = parse_day(as_of, "--as-of")
    from gridaudit.audit.access import reader

    if book:
        b = run(store, lambda s, _st: book_assessment(s, user, month, dataset, day))
        tail_zh = f"，取代 {b.supersedes_id}" if b.supersedes_id else ""
        tail_en = f", supersedes {b.supersedes_id}" if b.supersedes_id else ""
        console.print(
            msg(
                f"{month} 考核已发布（编号 {b.booking_id}{tail_zh}）",
                f"{month} assessment booked (id {b.booking_id}{tail_en})",
            )
        )
    rows = run(store, lambda s, _st: assess(s, month, dataset, day, user=reader(s, user)), user=user, read=True)
    if as_json:
        typer.echo(json.dumps([assessment_record(r) for r in rows], ensure_ascii=False, indent=1, default=str))
        return
    _assessment_table(rows)


@audit_app.command("export", epilog=example("gridaudit audit export --month 2025-07 --out audit-2025-07.xlsx"))
def export_command(
    month: str = month_option("--month", "Plan month YYYY-MM / 月份", default=...),
    xlsx: Path = out_file_option(
        "Workbook (XLSX) to write; --xlsx is its old name / 输出工作簿", default=Path("audit.xlsx")
    ),
    dataset: Annotated[Path | None, typer.Option("--dataset", help="Dataset for reads per reader/unit")] = None,
    as_of: date | None = date_option("--as-of", "Deadlines counted as of this date (default today)"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Export the month's plan, tasks, results, rectifications, assessment and penalties to XLSX."""
    from gridaudit.audit.access import reader
    from gridaudit.audit.export import export_xlsx

    if xlsx.suffix.lower() != ".xlsx":
        die(both(f"--out 须为 .xlsx 文件：{xlsx}", f"--out must name an .xlsx file, not {xlsx}"))
    day = parse_day(as_of, "--as-of")

    from gridaudit.audit import trail

    def go(s: object, _st: object) -> dict:
        counts = export_xlsx(s, month, xlsx, dataset, day, user=reader(s, user))
        if user:
            trail.append(s, user, "export", "plan", month, {"xlsx": str(xlsx), "rows": counts})
        return counts

    counts = run(store, go, user=user, read=True)
    console.print(msg(f"已写出 {xlsx}: ", f"wrote {xlsx}: ") + ", ".join(f"{k} {v}" for k, v in counts.items()))


@audit_app.command(
    "export-inspections",
    epilog=example(
        "gridaudit audit export-inspections --out inspections.csv",
        "gridaudit audit export-inspections --out out/labels-2025-07.csv --month 2025-07 --dataset ds",
    ),
)
def export_inspections(
    out: Path = out_file_option("CSV to write, any name (contract table inspections)", default=Path("inspections.csv")),
    month: str | None = month_option("--month", "Only tasks of this plan month YYYY-MM"),
    dataset: Annotated[Path | None, typer.Option("--dataset", help="Also ingest the rows into this dataset")] = None,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Write inspection outcomes as ``inspections`` rows (labels for the risk scorer), optionally ingesting them."""
    from gridaudit.audit import trail
    from gridaudit.audit.access import reader
    from gridaudit.audit.export import inspection_rows, write_inspections_csv

    def go(s: object, _st: object) -> object:
        table = inspection_rows(s, month, reader(s, user))
        if user:
            trail.append(s, user, "export", "plan", month or "all", {"inspections": str(out), "rows": table.num_rows})
        return table

    table = run(store, go, user=user, read=True)
    write_inspections_csv(table, out)
    console.print(msg(f"已写出 {table.num_rows} 条检查记录到 {out}", f"wrote {table.num_rows} inspections to {out}"))
    if dataset is not None:
        _ingest_inspections(out, dataset)


def _ingest_inspections(csv: Path, dataset: Path) -> None:
    """Ingest ``csv`` (whatever its name) as the ``inspections`` table and print the ingest summary."""
    import tempfile

    from gridaudit.ingest import ingest
    from gridaudit.ingest.report import print_summary

    with tempfile.TemporaryDirectory(prefix="gridaudit-") as tmp:
        mapping = Path(tmp) / "mapping.yaml"  # the file name need not name the table: the mapping places it
        mapping.write_text(json.dumps({"tables": {csv.stem: "inspections"}}, ensure_ascii=False), "utf-8")
        result = ingest([csv], dataset, mapping=mapping)
    if result.errors:
        for e in result.errors:
            err_console.print(f"[bold red]error[/]: {e}", highlight=False)
        raise typer.Exit(2)
    console.print(msg(f"导入数据集 {dataset}：", f"ingested into {dataset}:"), highlight=False)
    print_summary(result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@audit_app.command(
    "penalty",
    epilog=example(
        "gridaudit audit penalty theft --date 2023-05-10 --capacity-kw 10 --tariff 0.56",
        "gridaudit audit penalty tariff_misuse --date 2023-05-10 --monthly-kwh 1200 --high-price 0.83 --low-price 0.56",
        "gridaudit audit penalty capacity_overuse --date 2023-05-10 --kva 200 --two-part --basic-price 28 --months 4 "
        "--task 12 --user li",
    ),
)
def penalty_command(
    kind: str = typer.Argument(..., help="theft, tariff_misuse, capacity_overuse, suspended_use, meter_moved"),
    on: date = date_option("--date", "Date of the violation YYYY-MM-DD (chooses the schedule)", default=...),
    tariff: float = typer.Option(None, "--tariff", help="Theft: tariff ¥/kWh / 电价"),
    kwh: float = typer.Option(None, "--kwh", help="Energy established, kWh (theft, tariff_misuse)"),
    capacity_kw: float = typer.Option(None, "--capacity-kw", help="Theft: connected capacity kW (kVA as kW)"),
    multiplier: float = typer.Option(None, "--multiplier", help="Theft: meter multiplier / 倍率"),
    hours: float = typer.Option(None, "--hours", help="Theft: hours of use, when known"),
    lighting: bool = typer.Option(False, "--lighting", help="Theft: lighting customer (6 h/day if unknown)"),
    monthly_kwh: float = typer.Option(None, "--monthly-kwh", help="高价低接: kWh per month"),
    months: float = typer.Option(None, "--months", help="Months of use (unknown → schedule default)"),
    high_price: float = typer.Option(None, "--high-price", help="高价低接: the tariff that should apply"),
    low_price: float = typer.Option(None, "--low-price", help="高价低接: the tariff billed"),
    kva: float = typer.Option(None, "--kva", help="Capacity concerned kW/kVA (增容, 暂停设备)"),
    two_part: bool = typer.Option(False, "--two-part", help="Two-part tariff customer / 两部制"),
    basic_price: float = typer.Option(None, "--basic-price", help="Basic charge ¥/kVA·month"),
    times: float = typer.Option(None, "--times", help="Number of times (暂停设备, 计量装置)"),
    residential: bool = typer.Option(False, "--residential", help="Meter moved: residential customer"),
    task: int = typer.Option(None, "--task", help="Book the result against this task (needs --user)"),
    duplicate_reason: str = typer.Option(
        None, "--duplicate-reason", help="Book although the same penalty is booked already: why / 重复登记理由"
    ),
    corrects: int = typer.Option(None, "--corrects", help="This booking replaces penalty ID (voided) / 更正登记"),
    reason: str = typer.Option(None, "--reason", help="Why the booking named by --corrects is wrong / 更正理由"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Back-billing and penalty (追补电费、违约使用电费) by the 《供电营业规则》 schedule in force on --date."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.penalties import calculate

    day = on  # required, parsed by date_option
    inputs: dict[str, Any] = dict(
        tariff_yuan_kwh=tariff,
        kwh=kwh,
        capacity_kw=capacity_kw,
        multiplier=multiplier,
        hours=hours,
        lighting=lighting or None,
        monthly_kwh=monthly_kwh,
        months=months,
        high_price=high_price,
        low_price=low_price,
        kva=kva,
        two_part=two_part or None,
        basic_price=basic_price,
        times=times,
        residential=residential or None,
    )
    try:
        res = calculate(kind, day, **inputs)
    except AuditError as exc:
        die(exc.text())
    console.print(msg(res.formula_zh, res.formula_en), highlight=False)
    console.print(
        msg(
            f"追补电量 {res.backbill_kwh:,.2f} kWh，补交电费 {res.backbill_yuan:,.2f} 元，违约使用电费 "
            f"{res.penalty_yuan:,.2f} 元，合计 {res.total_yuan:,.2f} 元",
            f"back-billed {res.backbill_kwh:,.2f} kWh, ¥{res.backbill_yuan:,.2f}; penalty "
            f"¥{res.penalty_yuan:,.2f}; total ¥{res.total_yuan:,.2f}",
        )
    )
    if task is not None:
        from gridaudit.audit.penalties.book import book_penalty

        pid = run(
            store,
            lambda s, _st: (
                book_penalty(
                    s, user, task, res, day, duplicate_reason=duplicate_reason, corrects=corrects, reason=reason
                ).penalty_id
            ),
        )
        console.print(msg(f"已登记到任务 {task}（编号 {pid}）", f"booked against task {task} (id {pid})"))


@audit_app.command(
    "penalty-void",
    epilog=example("gridaudit audit penalty-void 7 --reason '重复登记，应以 8 号为准' --user lead"),
)
def penalty_void(
    penalty_id: int = typer.Argument(..., help="Penalty booking id / 违约金登记编号"),
    reason: str = typer.Option(..., "--reason", help="Why it is void / 作废理由"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Void a booked penalty (by someone other than its booker); it stays in the trail and exports (作废违约金登记)."""
    from gridaudit.audit.corrections import void_penalty

    v = run(store, lambda s, _st: void_penalty(s, user, penalty_id, reason))
    console.print(
        msg(f"违约金登记 {penalty_id} 已作废（任务 {v.task_id}）", f"penalty {penalty_id} voided (task {v.task_id})")
    )
