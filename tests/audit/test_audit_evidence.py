"""The evidence pack of one task (gridaudit audit evidence): a dataset, a real rules run and a case store built
in code; the HTML and the PDF hold the finding, the rule with the parameter values the run used, the data,
the timeline with names and the penalty as the store holds it."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.contract import load_contract
from gridaudit.dataset import commit_version, stage_version

from .conftest import add_people

RULE = "theft_sustained_drop_own_history"
runner = CliRunner()


def _table(name, rows):
    schema = load_contract().table(name).arrow_schema()
    return pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema)


def _dataset(root):
    """C1 (meter M1, ×2) uses 10 register units a day to April 2023, then 3 in May and June; its meter
    cover was opened on 3 May. C2 stays steady. Both in area A1 of unit U1."""
    customers = [
        dict(customer_id=c, unit_id="U1", category="residential", tariff_code="R1", voltage_kv=0.4,
             contract_kva=8.0, status="active", area_id="A1", name=n, reader_id="S01")
        for c, n in (("C1", "王某某"), ("C2", "李某某"))
    ]  # fmt: skip
    meters = [
        dict(meter_id=m, role="customer", multiplier=2.0, customer_id=c, area_id="A1")
        for m, c in (("M1", "C1"), ("M2", "C2"))
    ]
    daily, readings, bills = [], [], []
    day = date(2023, 1, 1)
    reg = {"M1": 0.0, "M2": 0.0}
    while day <= date(2023, 6, 30):
        for m in ("M1", "M2"):
            use = 3.0 if (m == "M1" and day >= date(2023, 5, 1)) else 10.0
            reg[m] += use
            daily.append(dict(meter_id=m, day=day, kwh=use, register=reg[m]))
            if day.day == 25:
                readings.append(dict(meter_id=m, period=day.strftime("%Y-%m"), read_on=day, reading=reg[m],
                                     read_type="actual", reader_id="S01"))  # fmt: skip
        day += timedelta(days=1)
    for r in readings:
        c = "C1" if r["meter_id"] == "M1" else "C2"
        bills.append(dict(bill_id=f"B-{c}-{r['period']}", customer_id=c, period=r["period"], kwh=600.0,
                          tariff_code="R1", amount_yuan=336.0, clerk_id="S02", issued_on=r["read_on"]))  # fmt: skip
    events = [dict(meter_id="M1", ts=datetime(2023, 5, 3, 14, 5), event_type="cover_open", detail="开盖 12 分钟")]
    seals = [dict(seal_id="SL-001", meter_id="M1", position="meter", applied_at=datetime(2022, 3, 1, 9, 0),
                  applied_by="S01", removed_at=datetime(2023, 5, 3, 14, 0))]  # fmt: skip
    staff = [dict(staff_id="S01", unit_id="U1", role="reader", name="赵抄表"),
             dict(staff_id="S02", unit_id="U1", role="clerk", name="钱核算")]  # fmt: skip
    tariffs = [dict(tariff_code="R1", category="residential", price_yuan_kwh=0.56, valid_from=date(2020, 1, 1))]
    staged = stage_version(root)
    tables = dict(customers=customers, meters=meters, daily_usage=daily, readings=readings, bills=bills,
                  meter_events=events, tariffs=tariffs, staff=staff, seals=seals)  # fmt: skip
    for name, rows in tables.items():
        staged.write_table(name, _table(name, rows))
    commit_version(staged, {"sources": []})
    return root


def _other_runs(root):
    """A loss run (area A1 high) and a risk run (C1 scored, explained), as those analyzers store them."""
    from gridaudit.findings import findings_table
    from gridaudit.findings.store import RunProvenance, append_run

    loss = findings_table([dict(
        rule_id="loss_area_high", family="loss", severity="high", entity_type="area", entity_id="A1", period="2023-06",
        score=0.12, kwh_at_stake=500.0, yuan_at_stake=None, responsible_staff_id=None, run_id="x",
        evidence={"supply_kwh": 5000.0, "sales_kwh": 4400.0, "loss_kwh": 600.0, "loss_rate_pct": 12.0, "band": "high"},
    )])  # fmt: skip
    append_run(root, loss, RunProvenance(analyzer="loss", params={"bands": {"high_from": 10.0}}))
    risk = findings_table([dict(
        rule_id="theft_risk", family="theft", severity="medium", entity_type="customer", entity_id="C1",
        period="2023-06", score=0.91, kwh_at_stake=None, yuan_at_stake=None, responsible_staff_id=None, run_id="x",
        evidence={"explanation_zh": "近两月用电量骤降 70%", "explanation_en": "use fell 70% in the last two months"},
    )])  # fmt: skip
    append_run(root, risk, RunProvenance(analyzer="risk", params={"top": 100}))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The dataset with its findings store: a rules run (drop_pct set to 0.6), a loss run and a risk run.
    Shared by the module's tests: an evidence pack only reads it."""
    root = _dataset(tmp_path_factory.mktemp("evidence") / "ds")
    res = runner.invoke(app, ["rules", "run", "--dataset", str(root), "--only", RULE, "--set", f"{RULE}.drop_pct=0.6"])
    assert res.exit_code == 0, res.output
    _other_runs(root)
    return root


@pytest.fixture
def case(store, tmp_path, dataset):
    """One task of the rules run's finding taken to a booked penalty and closed."""
    from gridaudit.audit import actions
    from gridaudit.audit.penalties import calculate
    from gridaudit.audit.penalties.book import book_penalty
    from gridaudit.audit.plans import create_plan, entity_units
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    root = dataset
    add_people(store)
    runs = latest_runs(root)
    with store.transaction() as s:
        out = create_plan(s, "li", "2023-07", read_runs(runs), rules=[RULE], unit_map=entity_units(root),
                          source={"runs": [r.source() for r in runs]})  # fmt: skip
        assert [t.entity_id for t in out.tasks] == ["C1"], "the rule must fire on C1 only"
        tid = out.tasks[0].task_id
    with store.transaction() as s:
        actions.assign(s, "li", tid, "zhang")
    photo = tmp_path / "seal.jpg"
    photo.write_bytes(b"a photo of the broken seal")
    with store.transaction() as s:
        actions.record_result(s, "zhang", tid, "theft", "field", 1260.0, 705.6, "seal_broken", note="表盖封印被破坏",
                              inspected_on=date(2023, 7, 3), attachments=[photo],
                              attachment_dir=store.attachments)  # fmt: skip
    pen = calculate("theft", date(2023, 5, 3), kwh=1260, tariff_yuan_kwh=0.56)
    with store.transaction() as s:
        book_penalty(s, "zhang", tid, pen, date(2023, 5, 3))
    with store.transaction() as s:
        actions.close(s, "li", tid, "追补并处违约使用电费")
    return dict(root=root, task=tid, pen=pen)


def _cli(store_url, *args, user="li", lang="zh"):
    argv = ["--lang", lang, "audit", "evidence", *args, "--store", store_url, "--user", user]
    return runner.invoke(app, argv)


def _store_penalty(store, tid):
    from sqlalchemy import select

    from gridaudit.audit.models import Penalty

    with store.transaction() as s:
        p = s.execute(select(Penalty).where(Penalty.task_id == tid)).scalar_one()
        return p.backbill_yuan, p.penalty_yuan


def _assert_no_external(html: str) -> None:
    """Nothing the page would fetch: no src/href to a URL or file, no @import, no url() but data:."""
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:|/)""", html, re.I)
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()


def test_html_pack_holds_the_case(case, store_url, store, tmp_path):
    out = tmp_path / "pack.html"
    res = _cli(store_url, str(case["task"]), "--out", str(out), "--dataset", str(case["root"]))
    assert res.exit_code == 0, res.output
    html = out.read_text("utf-8")
    backbill, penalty = _store_penalty(store, case["task"])
    # the finding and the rule with the value the run used (0.6, default 0.5) and its basis
    assert RULE in html and "用电量较自身历史持续大幅下降" in html
    assert "《供电营业规则》第一百零一条" in html
    row = re.search(r"<td>drop_pct</td><td>([^<]*)</td><td>([^<]*)</td>", html)
    assert row and row.groups() == ("0.6", "0.5"), row and row.groups()
    assert "run.json" in html
    # the data: customer, readings, bills, meter events, the daily chart, area loss and risk explanation
    assert "王某某" in html and "B-C1-2023-06" in html and "开表盖 cover_open" in html
    assert "SL-001" in html and "表封 meter" in html
    assert "赵抄表 (S01)" in html and "钱核算 (S02)" in html  # staff by name, not id
    assert "seal.jpg" in html and hashlib.sha256(b"a photo of the broken seal").hexdigest() in html
    assert "<svg" in html
    assert "台区 A1 线损" in html and "近两月用电量骤降 70%" in html
    # the timeline, with names; the penalty as the store has it, with its legal basis
    for who in ("Li (li)", "Zhang (zhang)"):
        assert who in html
    for what in ("派发", "录入核查结果", "登记追补电费与违约使用电费", "关闭"):
        assert what in html
    assert f"{penalty:,.2f}" in html and f"{backbill:,.2f}" in html
    assert "第一百零二条" in html and "《供电营业规则》（1996 年" in html
    _assert_no_external(html)


def test_english_pack(case, store_url, tmp_path):
    out = tmp_path / "pack-en.html"
    res = _cli(store_url, str(case["task"]), "--out", str(out), "--dataset", str(case["root"]), lang="en")
    assert res.exit_code == 0, res.output
    html = out.read_text("utf-8")
    assert "Sustained drop in use against the customer&#39;s own history" in html
    assert "Back-billing and penalty" in html and "Art. 102, 103" in html
    assert "<h2>1. Task and finding</h2>" in html


def test_pack_without_dataset_says_so(case, store_url, tmp_path):
    out = tmp_path / "bare.html"
    res = _cli(store_url, str(case["task"]), "--out", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text("utf-8")
    assert "未指定数据集" in html and "王某某" not in html
    assert "规则文件的默认值" in html  # no run found: the defaults are shown, and said to be defaults


def test_unknown_task_exits_2(case, store_url, tmp_path):
    res = _cli(store_url, "999", "--out", str(tmp_path / "x.html"), lang="en")
    assert res.exit_code == 2
    assert "999" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x.html").exists()


def test_bad_out_suffix_exits_2(case, store_url, tmp_path):
    res = _cli(store_url, str(case["task"]), "--out", str(tmp_path / "x.docx"), lang="en")
    assert res.exit_code == 2 and ".pdf or .html" in " ".join(res.output.split())


def test_user_outside_unit_scope_is_refused(case, store_url, tmp_path):
    out = tmp_path / "sun.html"
    res = _cli(store_url, str(case["task"]), "--out", str(out), user="sun", lang="en")
    assert res.exit_code == 2, res.output
    assert "outside sun's scope" in " ".join(res.output.split())
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".pdf", ".html"])
def test_missing_font_exits_2_and_logs_nothing(case, store_url, store, tmp_path, monkeypatch, suffix):
    from gridaudit.audit.trail import history

    monkeypatch.setenv("GRIDAUDIT_CJK_FONT", str(tmp_path / "no-such-font.ttf"))
    out = tmp_path / f"pack{suffix}"
    res = _cli(store_url, str(case["task"]), "--out", str(out), "--dataset", str(case["root"]), lang="en")
    assert res.exit_code == 2, res.output
    assert "no-such-font.ttf" in " ".join(res.output.split()) and "Traceback" not in res.output
    assert not out.exists()
    with store.transaction() as s:
        assert "evidence" not in [e.action for e in history(s, "task", case["task"])]


def test_pack_is_logged_in_the_trail(case, store_url, store, tmp_path):
    from gridaudit.audit.trail import history

    _cli(store_url, str(case["task"]), "--out", str(tmp_path / "a.html"))
    with store.transaction() as s:
        ev = history(s, "task", case["task"])[-1]
        assert (ev.action, ev.actor, json.loads(ev.payload)["out"]) == ("evidence", "li", "a.html")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdffonts) not installed")
def test_pdf_pack_embeds_cjk_and_reads_back(case, store_url, store, tmp_path):
    out = tmp_path / "pack.pdf"
    res = _cli(store_url, str(case["task"]), "--out", str(out), "--dataset", str(case["root"]))
    assert res.exit_code == 0, res.output
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    _, penalty = _store_penalty(store, case["task"])
    assert "证据包" in text and "用电量较自身历史持续大幅下降" in text and f"{penalty:,.2f}" in text
    assert "王某某" in text and "录入核查结果" in text
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    cjk = [ln for ln in fonts.splitlines() if re.search(r"CJK|Han|WenQuanYi|Hei|Song|Noto", ln)]
    assert cjk and all(" yes " in ln for ln in cjk), fonts


def test_demo_prints_a_working_evidence_command(tmp_path):
    import shlex

    from gridaudit.audit.demo import run_demo
    from gridaudit.console import console

    root = _dataset(tmp_path / "ds")
    assert runner.invoke(app, ["rules", "run", "--dataset", str(root), "--only", RULE]).exit_code == 0
    _other_runs(root)
    with console.capture() as cap:
        run_demo(root, tmp_path / "out", top=10)
    line = next(ln for ln in cap.get().splitlines() if "gridaudit audit evidence" in ln)
    argv = shlex.split(line[line.index("gridaudit audit evidence") :])[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "demo.html")  # the PDF is tested above; HTML is quicker
    res = runner.invoke(app, ["--lang", "en", *argv])
    assert res.exit_code == 0, res.output
    task = argv[argv.index("evidence") + 1]
    html = (tmp_path / "demo.html").read_text("utf-8")
    assert f"Evidence pack, audit task {task}" in html and "Timeline" in html


def test_html_pack_opens_offline_in_chromium(case, store_url, tmp_path):
    """Chromium opens the HTML pack and asks for nothing but the file itself; the chart is drawn."""
    import os
    import tempfile

    if not os.path.exists("/usr/bin/chromium"):
        if os.environ.get("GRIDAUDIT_REQUIRE_SERVERS") == "1":
            pytest.fail("required browser missing in CI: /usr/bin/chromium")
        pytest.skip("/usr/bin/chromium not installed")
    from playwright.sync_api import sync_playwright

    out = tmp_path / "pack.html"
    assert _cli(store_url, str(case["task"]), "--out", str(out), "--dataset", str(case["root"])).exit_code == 0
    asked: list[str] = []
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path="/usr/bin/chromium", headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            page = ctx.new_page()
            page.on("request", lambda r: asked.append(r.url))
            page.goto(out.resolve().as_uri())
            page.wait_for_load_state("networkidle")
            assert page.locator("figure.chart svg").count() == 1
            assert page.locator("h1").inner_text() == f"稽查任务 {case['task']} 证据包"
        finally:
            ctx.close()
    assert asked == [out.resolve().as_uri()], asked


def test_voided_penalty_is_marked_and_not_counted(case, store_url, store, tmp_path):
    from sqlalchemy import select

    from gridaudit.audit.corrections import void_penalty
    from gridaudit.audit.models import Penalty

    with store.transaction() as s:
        pid = s.execute(select(Penalty.penalty_id).where(Penalty.task_id == case["task"])).scalar_one()
        void_penalty(s, "li", pid, "窃电量认定有误，待重新计算")
    out = tmp_path / "void.html"
    assert _cli(store_url, str(case["task"]), "--out", str(out)).exit_code == 0
    html = " ".join(out.read_text("utf-8").split())
    assert "已作废（Li (li)" in html and "窃电量认定有误，待重新计算" in html
    assert "<th>违约使用电费 元</th><td>0.00</td>" in html  # the money in force: nothing left
    assert "作废违约金登记" in html  # and the void is in the timeline


def test_not_a_dataset_exits_2(case, store_url, tmp_path):
    res = _cli(store_url, str(case["task"]), "--out", str(tmp_path / "x.html"), "--dataset", str(tmp_path), lang="en")
    assert res.exit_code == 2 and "is not a gridaudit dataset" in " ".join(res.output.split())
    assert not (tmp_path / "x.html").exists()
