"""``gridaudit tips …``: tip-offs (举报) in, matched, as findings, and their rewards (docs/tips.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, run
from gridaudit.cli_options import date_option, list_option, month_option
from gridaudit.console import console, die, example
from gridaudit.i18n import both, msg

tips_app = typer.Typer(
    help="Tip-offs and rewards (举报与举报奖励): a source of cases beside the analyzers.", no_args_is_help=True
)
reward_app = typer.Typer(help="Rewards for confirmed tips (举报奖励): propose, approve, reject.", no_args_is_help=True)
tips_app.add_typer(reward_app, name="reward")

DatasetOpt = typer.Option(
    ..., "--dataset", "-d", help="Dataset the tips are matched against; its findings store gets them"
)


def _matcher(dataset: Path) -> Any:
    from gridaudit.dataset import DatasetError
    from gridaudit.tips.matching import Matcher

    try:
        return Matcher(dataset)
    except DatasetError as exc:
        die(str(exc))


def _intake(store: str | None, user: str | None, dataset: Path, tips: list[Any]) -> None:
    """Store, match and publish ``tips``; print what happened to each (never the reporter)."""
    from gridaudit.tips.intake import add_tips, status_text

    matcher = _matcher(dataset)
    try:

        def go(s: Any, _st: Any) -> list[dict]:
            out = []
            for a in add_tips(s, user, tips, matcher):
                out.append(
                    {
                        "tip_id": a.tip.tip_id,
                        "duplicate": a.duplicate,
                        "status": a.tip.status,
                        "customer_id": a.tip.customer_id,
                        "candidates": [c.customer_id for c in a.match.candidates] if a.match else [],
                        "reason": a.match.reason if a.match else None,
                    }
                )
            return out

        done = run(store, go)
    finally:
        matcher.close()
    for d in done:
        tid = d["tip_id"]
        if d["duplicate"]:
            console.print(
                msg(f"[yellow]与举报 {tid} 相同，未重复登记[/]", f"[yellow]same as tip {tid}: not entered twice[/]")
            )
        elif d["status"] == "matched":
            console.print(
                msg(f"举报 {tid}: 已匹配用户 {d['customer_id']}", f"tip {tid}: matched to customer {d['customer_id']}")
            )
        elif d["status"] == "ambiguous":
            shown = ", ".join(d["candidates"][:10]) + (" …" if len(d["candidates"]) > 10 else "")
            console.print(
                msg(
                    f"[yellow]举报 {tid}: {status_text('ambiguous').zh}，候选用户 {shown}；"
                    f"请用 gridaudit tips match {tid} 用户编号 确认[/]",
                    f"[yellow]tip {tid}: ambiguous, candidates {shown}; "
                    f"pick one with gridaudit tips match {tid} CUSTOMER[/]",
                ),
                highlight=False,
            )
        else:
            reason = msg(d["reason"]) if d["reason"] else ""
            console.print(
                msg(
                    f"[yellow]举报 {tid}: 对象未知（{reason}），举报已保留；"
                    f"可用 gridaudit tips match {tid} 用户编号 指定[/]",
                    f"[yellow]tip {tid}: unknown subject ({reason}); the tip is kept, "
                    f"match it with gridaudit tips match {tid} CUSTOMER[/]",
                ),
                highlight=False,
            )
    new = sum(1 for d in done if not d["duplicate"])
    console.print(msg(f"登记 {new} 条，重复 {len(done) - new} 条", f"entered {new}, duplicates {len(done) - new}"))
    _publish(store, dataset)


def _publish(store: str | None, dataset: Path) -> None:
    from gridaudit.dataset import DatasetError
    from gridaudit.findings import FindingsStoreError
    from gridaudit.tips.to_findings import publish

    try:
        info = run(store, lambda s, _st: publish(s, dataset))
    except (DatasetError, FindingsStoreError) as exc:  # the tips are stored; publishing can be redone
        die(
            both(
                f"举报已保存，但写入问题库失败（可用 gridaudit tips publish 重试）: {exc}",
                f"the tips are stored, but writing the findings failed (retry with gridaudit tips publish): {exc}",
            )
        )
    if info is not None:
        console.print(
            msg(
                f"问题库运行 {info.run_id}：{info.rows} 条举报问题",
                f"findings run {info.run_id}: {info.rows} tip findings",
            ),
            highlight=False,
        )


@tips_app.command(
    "add",
    epilog=example(
        "gridaudit tips add --dataset ds --customer C0001 --what 夜间私拉电线 --channel 95598 --on 2025-07-03 "
        "--user li",
        "gridaudit tips add --dataset ds --address 幸福路12号 --what 表箱封印被剪 --channel 电话 --on 2025-07-03 "
        "--contact 138xxxx --user li",
    ),
)
def add_command(
    dataset: Path = DatasetOpt,
    customer: str = typer.Option(None, "--customer", help="Customer id named by the tip / 用户编号"),
    meter: str = typer.Option(None, "--meter", help="Meter id / 电能表编号"),
    address: str = typer.Option(None, "--address", help="Address / 地址"),
    area: str = typer.Option(None, "--area", help="Area (台区) id / 台区编号"),
    what: str = typer.Option(None, "--what", help="What was reported / 举报内容"),
    channel: str = typer.Option(
        ..., "--channel", help="95598, phone, letter, walk_in, web, police (or 电话, 信函, 来访, 网站, 公安)"
    ),
    on: date | None = date_option("--on", "Day the tip was received YYYY-MM-DD (default today) / 举报日期"),
    contact: str = typer.Option(
        None, "--contact", help="Reporter's contact, optional; only the audit lead sees it / 举报人联系方式"
    ),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Enter one tip: matched to a customer, stored, and published as a finding (family tip) when matched."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.tips.subjects import entered_tip

    try:
        tip = entered_tip(customer, meter, address, area, what, channel, on, contact)
    except AuditError as exc:
        die(exc.text())
    _intake(store, user, dataset, [tip])


@tips_app.command(
    "import",
    epilog=example(
        "gridaudit tips import tips-2025-07.csv --dataset ds --user li",
        "gridaudit tips import 举报登记.xlsx -d ds --user li",
    ),
)
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX, one tip per row / 举报登记表")],
    dataset: Path = DatasetOpt,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Import tips in bulk; columns customer_id/meter_id/address/area_id, what, channel, received_on, contact
    (or 用户编号, 表号, 地址, 台区, 举报内容, 渠道, 举报日期, 联系方式). A bad row refuses the whole file."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.tips.files import read_tip_file

    try:
        tips = read_tip_file(file)
    except AuditError as exc:
        die(exc.text())
    _intake(store, user, dataset, tips)


@tips_app.command("from-work-orders", epilog=example("gridaudit tips from-work-orders --dataset ds --user li"))
def from_work_orders(
    dataset: Path = DatasetOpt,
    channel: str = typer.Option("95598", "--channel", help="Channel of these tips (default 95598)"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Take tips from the dataset's work_orders rows of type tip_off (举报工单); each order once."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.dataset import DatasetError
    from gridaudit.tips.files import work_order_tips
    from gridaudit.tips.subjects import parse_channel

    try:
        tips, skipped = work_order_tips(dataset, parse_channel(channel))
    except (AuditError, DatasetError) as exc:
        die(exc.text() if isinstance(exc, AuditError) else str(exc))
    if skipped:
        console.print(
            msg(
                f"[yellow]未带用户编号的举报工单未导入: {', '.join(skipped)}[/]",
                f"[yellow]tip-off orders without a customer left out: {', '.join(skipped)}[/]",
            )
        )
    if not tips:
        console.print(msg("没有举报工单（order_type = tip_off）", "no tip-off work orders (order_type = tip_off)"))
        return
    _intake(store, user, dataset, tips)


@tips_app.command("match", epilog=example("gridaudit tips match 7 C0012 --dataset ds --user li"))
def match_command(
    tip_id: int = typer.Argument(..., help="Tip id / 举报编号"),
    customer: str = typer.Argument(..., help="The customer it names / 用户编号"),
    dataset: Path = DatasetOpt,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Pick the customer of a held tip (ambiguous or unknown subject) and publish its finding."""
    from gridaudit.tips.intake import choose_customer

    matcher = _matcher(dataset)
    try:
        tip = run(store, lambda s, _st: choose_customer(s, user, tip_id, customer, matcher))
    finally:
        matcher.close()
    console.print(
        msg(
            f"举报 {tip.tip_id}: 已匹配用户 {tip.customer_id}",
            f"tip {tip.tip_id}: matched to customer {tip.customer_id}",
        )
    )
    _publish(store, dataset)


@tips_app.command("publish", epilog=example("gridaudit tips publish --dataset ds --user li"))
def publish_command(dataset: Path = DatasetOpt, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Append the findings of every matched tip to the dataset's findings store again (e.g. after new rule runs,
    so the links to other findings are fresh)."""
    run(store, lambda _s, _st: None, user=user, read=True)
    _publish(store, dataset)


@tips_app.command(
    "list", epilog=example("gridaudit tips list --user lead", "gridaudit tips list --status ambiguous --json --user li")
)
def list_command(
    status: list[str] | None = list_option("--status", "Only matched, ambiguous or unknown (repeat or a,b)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """List tips. Only the audit lead sees the reporter column; each reporter shown is an audit-trail event."""
    from rich.table import Table

    from gridaudit.audit.cli_common import split_list
    from gridaudit.tips.views import list_tips

    rows, lead = run(store, lambda s, _st: list_tips(s, user, split_list(status)), user=user, read=True)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    t = Table(title=msg("举报", "tips"), show_edge=False)
    for zh, en in [("编号", "tip"), ("日期", "date"), ("渠道", "channel"), ("对象", "subject"), ("状态", "status"),
                   ("用户", "customer"), ("内容", "what")] + ([("举报人", "reporter")] if lead else []):  # fmt: skip
        t.add_column(msg(zh, en), overflow="fold")
    for r in rows:
        subj = " ".join(f"{k}={v}" for k, v in r["subject"].items())
        cands = [c["customer_id"] for c in r["candidates"]]
        who = r["customer_id"] or ("?" + ",".join(cands[:5]) if cands else "-")
        cells = [str(r["tip_id"]), r["received_on"], r["channel"], subj, r["status"], who, r["what"][:60]]
        t.add_row(*cells, *([r.get("reporter") or "-"] if lead else []))
    console.print(t)
    console.print(msg(f"{len(rows)} 条", f"{len(rows)} rows"))


@tips_app.command("show", epilog=example("gridaudit tips show 7 --user li", "gridaudit tips show 7 --json --user lead"))
def show_command(
    tip_id: int = typer.Argument(..., help="Tip id / 举报编号"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """One tip with its match or candidates; the reporter for the audit lead only (the look is in the trail)."""
    from gridaudit.tips.intake import status_text
    from gridaudit.tips.subjects import channel_label
    from gridaudit.tips.views import show_tip

    r, lead = run(store, lambda s, _st: show_tip(s, user, tip_id), user=user, read=True)
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=1))
        return
    subj = " ".join(f"{k}={v}" for k, v in r["subject"].items())
    console.print(
        msg(
            f"[bold]举报 {r['tip_id']}[/] {r['received_on']} {channel_label(r['channel'])}，对象 {subj}，"
            f"{msg(status_text(r['status']))}，来源 {r['source']}",
            f"[bold]tip {r['tip_id']}[/] {r['received_on']} {channel_label(r['channel'])}, subject {subj}, "
            f"{r['status']}, from {r['source']}",
        ),
        highlight=False,
    )
    console.print(msg("内容: ", "what: ") + r["what"], highlight=False)
    if r["customer_id"]:
        console.print(
            msg(
                f"用户 {r['customer_id']}（单位 {r['unit_id'] or '-'}），问题 {r['finding_id']}",
                f"customer {r['customer_id']} (unit {r['unit_id'] or '-'}), finding {r['finding_id']}",
            ),  # fmt: skip
            highlight=False,
        )
    for c in r["candidates"]:
        console.print(f"  {msg('候选', 'candidate')} {c['customer_id']} ({c['unit_id']}, {c['area_id']}, {c['why']})")
    if lead:
        console.print(msg("举报人: ", "reporter: ") + (r.get("reporter") or "-"), highlight=False)


@reward_app.command(
    "propose",
    epilog=example(
        "gridaudit tips reward propose 12 --user li",
        "gridaudit tips reward propose 12 --rewards reward-rules.yaml --user li",
    ),
)
def reward_propose(
    task_id: int = typer.Argument(..., help="The confirmed task made from a tip / 任务编号"),
    rewards: Annotated[
        Path | None, typer.Option("--rewards", help="Reward setting file (YAML/TOML, docs/tips.md)")
    ] = None,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Propose the reward of the tip behind a confirmed task: share of the recovered back-billing, capped."""
    from gridaudit.settings_file import SettingsError
    from gridaudit.tips.rewards import load_reward_settings, propose_reward

    try:
        settings = load_reward_settings(rewards)
    except SettingsError as exc:
        die(str(exc))
    r = run(store, lambda s, _st: propose_reward(s, user, task_id, settings))
    console.print(
        msg(
            f"奖励 {r.reward_id}（举报 {r.tip_id}，任务 {r.task_id}）: {r.amount_yuan:.2f} 元 = {r.formula}；"
            "待另一人审批",
            f"reward {r.reward_id} (tip {r.tip_id}, task {r.task_id}): {r.amount_yuan:.2f} yuan = {r.formula}; "
            "awaiting approval by another person",
        ),
        highlight=False,
    )


def _decide(reward_id: int, approve: bool, reason: str | None, store: str | None, user: str | None) -> None:
    from gridaudit.tips.rewards import decide_reward

    run(store, lambda s, _st: decide_reward(s, user, reward_id, approve, reason))
    if approve:
        console.print(msg(f"奖励 {reward_id} 已批准并入账", f"reward {reward_id} approved and booked"))
    else:
        console.print(msg(f"奖励 {reward_id} 已驳回", f"reward {reward_id} rejected"))


@reward_app.command("approve", epilog=example("gridaudit tips reward approve 3 --user lead"))
def reward_approve(
    reward_id: int = typer.Argument(..., help="Reward id / 奖励编号"), store: str = StoreOpt, user: str = UserOpt
) -> None:
    """Approve a proposed reward (audit lead or manager, not the proposer); it is booked in the ledger."""
    _decide(reward_id, True, None, store, user)


@reward_app.command("reject", epilog=example("gridaudit tips reward reject 3 --reason 追补电费未到账 --user lead"))
def reward_reject(
    reward_id: int = typer.Argument(..., help="Reward id / 奖励编号"),
    reason: str = typer.Option(..., "--reason", help="Why / 驳回理由"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Reject a proposed reward with a reason (a new proposal may follow)."""
    _decide(reward_id, False, reason, store, user)


@reward_app.command("list", epilog=example("gridaudit tips reward list --month 2025-07 --user lead"))
def reward_list(
    month: str | None = month_option("--month", "Only the tasks of this plan month YYYY-MM"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """List rewards with their decision (no reporter identity)."""
    from rich.table import Table

    from gridaudit.tips.rewards import reward_lines, rewards_for_month

    lines = run(store, lambda s, _st: rewards_for_month(s, month) if month else reward_lines(s), user=user, read=True)
    if as_json:
        typer.echo(json.dumps([ln.as_dict() for ln in lines], ensure_ascii=False, indent=1))
        return
    t = Table(title=msg("举报奖励", "tip rewards"), show_edge=False)
    for zh, en in (("奖励", "reward"), ("举报", "tip"), ("任务", "task"), ("渠道", "channel"), ("追补¥", "basis ¥"),
                   ("奖励¥", "reward ¥"), ("提出", "proposed by"), ("审批", "decision"), ("审批人", "by")):  # fmt: skip
        t.add_column(msg(zh, en))
    for ln in lines:
        t.add_row(str(ln.reward_id), str(ln.tip_id), str(ln.task_id), ln.channel, f"{ln.basis_yuan:,.2f}",
                  f"{ln.amount_yuan:,.2f}", ln.proposed_by, ln.status, ln.decided_by or "-")  # fmt: skip
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit tips …`` to the CLI."""
    app.add_typer(tips_app, name="tips")
