"""Tip-offs: matching (exact, ambiguous, unknown), dedup, bad files, reporter privacy, rewards and approval."""

from __future__ import annotations

from datetime import date

import pytest

from gridaudit.audit.errors import AuditError, Forbidden
from gridaudit.tips.intake import add_tips, choose_customer
from gridaudit.tips.matching import Matcher
from gridaudit.tips.subjects import Subject, TipInput, normalize_address, parse_channel

from .conftest import CONTACT


@pytest.fixture
def matcher(dataset):
    m = Matcher(dataset)
    yield m
    m.close()


def tip(subject: Subject, what="夜间私拉电线", channel="95598", day=date(2025, 6, 3), contact=None) -> TipInput:
    return TipInput(subject, what, channel, day, contact)


@pytest.mark.parametrize(
    "subject,status,customer,candidates",
    [
        (Subject(customer="C3"), "matched", "C3", []),
        (Subject(meter="M1"), "matched", "C1", []),
        (Subject(meter="MA3"), "matched", "C5", []),  # an area's total meter: its area, one customer
        (Subject(address="解放路8号"), "matched", "C5", []),
        (Subject(address="和平街５号"), "ambiguous", None, ["C3", "C4"]),  # two customers, same address
        (Subject(address="幸福路12号"), "matched", "C1", []),  # exact wins over C2's partial match
        (Subject(address="幸福路12号东门"), "matched", "C2", []),
        (Subject(address="幸福路"), "ambiguous", None, ["C1", "C2"]),  # partial only: a person picks
        (Subject(address="和平街5号", area="A1"), "unknown", None, []),  # not in that area
        (Subject(area="A1"), "ambiguous", None, ["C1", "C2"]),
        (Subject(area="A3"), "matched", "C5", []),
        (Subject(customer="C99"), "unknown", None, []),
        (Subject(meter="M99"), "unknown", None, []),
    ],
)
def test_matching(matcher, subject, status, customer, candidates):
    m = matcher.match(subject)
    assert m.status == status
    assert m.customer_id == customer
    if status == "ambiguous":
        assert [c.customer_id for c in m.candidates] == candidates
    if status == "unknown":
        assert m.reason is not None and m.reason.zh and m.reason.en


def test_address_normalisation_and_channels():
    assert normalize_address("幸福路 12 号（东门）") == normalize_address("幸福路１２号 东门")
    assert parse_channel("公安") == "police" and parse_channel("WEB") == "web" and parse_channel("来访") == "walk_in"
    with pytest.raises(AuditError, match="channel 'fax'"):
        parse_channel("fax")


def test_ambiguous_tip_is_held_then_matched_by_a_person(store, matcher):
    with store.transaction() as s:
        [a] = add_tips(s, "li", [tip(Subject(area="A1"))], matcher)
        assert a.tip.status == "ambiguous" and a.tip.finding_id is None
        tid = a.tip.tip_id
    with store.transaction() as s:
        with pytest.raises(AuditError, match="no customer C99"):
            choose_customer(s, "li", tid, "C99", matcher)
    with store.transaction() as s:
        t = choose_customer(s, "li", tid, "C2", matcher)
        assert t.status == "matched" and t.customer_id == "C2" and t.finding_id


def test_unknown_subject_is_kept(store, matcher):
    with store.transaction() as s:
        [a] = add_tips(s, "li", [tip(Subject(customer="C99"))], matcher)
        assert a.tip.tip_id and a.tip.status == "unknown" and "C99" in a.match.reason.en


def test_same_tip_twice_is_recognised(store, matcher):
    one = tip(Subject(address="和平街 5 号"), what="表箱 封印被剪")
    again = tip(Subject(address="和平街5号"), what="表箱封印被剪。", contact="someone else")
    with store.transaction() as s:
        first = add_tips(s, "li", [one], matcher)[0]
    with store.transaction() as s:
        second, third = add_tips(s, "lead", [again, tip(Subject(customer="C1"))], matcher)
    assert second.duplicate and second.tip.tip_id == first.tip.tip_id
    assert not third.duplicate and third.tip.tip_id != first.tip.tip_id
    # a different day is a different tip
    with store.transaction() as s:
        [other] = add_tips(
            s, "li", [tip(Subject(address="和平街5号"), what="表箱封印被剪", day=date(2025, 6, 4))], matcher
        )
    assert not other.duplicate


def test_who_may_enter_tips_and_see_reporters(store, matcher):
    from gridaudit.tips.privacy import reveal

    with store.transaction() as s, pytest.raises(Forbidden, match="may not tip_add"):
        add_tips(s, "zhang", [tip(Subject(customer="C1"))], matcher)
    with store.transaction() as s:
        [a] = add_tips(s, "li", [tip(Subject(customer="C1"), contact=CONTACT)], matcher)
    for who in ("li", "mgr", "admin", "view", "zhang"):
        with store.transaction() as s, pytest.raises(Forbidden, match="audit lead only"):
            reveal(s, who, [a.tip.tip_id])
    with store.transaction() as s:
        assert reveal(s, "lead", [a.tip.tip_id]) == {a.tip.tip_id: CONTACT}
    from sqlalchemy import select

    from gridaudit.audit.models import Event
    from gridaudit.audit.trail import verify_log

    with store.transaction() as s:
        events = list(s.execute(select(Event).order_by(Event.seq)).scalars())
        views = [e for e in events if e.action == "tip_reporter_view"]
        assert [(e.actor, e.entity_id) for e in views] == [("lead", str(a.tip.tip_id))]
        assert all(CONTACT not in e.payload and "13800138000" not in e.payload for e in events)
        assert verify_log(s)[1] == []


def test_bad_file_names_file_row_column_and_stores_nothing(tmp_path, store, matcher):
    from gridaudit.tips.files import TipFileError, read_tip_file

    f = tmp_path / "tips.csv"
    f.write_bytes(
        "用户编号,举报内容,渠道,举报日期,联系方式\nC1,私拉电线,电话,2025-06-01,x\nC2,,传真,2025-13-01,\n,有人窃电,95598,2025/6/2,\n".encode(
            "gbk"
        )
    )
    with pytest.raises(TipFileError) as err:
        read_tip_file(f)
    text = err.value.en
    assert "tips.csv row 3 column what" in text
    assert "tips.csv row 3 column channel" in text
    assert "tips.csv row 3 column received_on" in text
    assert "tips.csv row 4 column customer_id" in text
    assert "row 2" not in text
    g = tmp_path / "ok.csv"
    g.write_bytes(
        "用户编号,举报内容,渠道,举报日期\nC1,私拉电线,电话,2025年6月1日\nC3,绕表,信函,2025/6/2\n".encode("gbk")
    )
    tips = read_tip_file(g)
    assert [(t.subject.customer, t.channel, t.received_on, t.source_ref) for t in tips] == [
        ("C1", "phone", date(2025, 6, 1), "ok.csv:2"),
        ("C3", "letter", date(2025, 6, 2), "ok.csv:3"),
    ]
    h = tmp_path / "nohead.csv"
    h.write_text("who,what\nC1,x\n", "utf-8")
    with pytest.raises(TipFileError, match="nohead.csv row 1 column channel"):
        read_tip_file(h)


def test_xlsx_import(tmp_path):
    import xlsxwriter

    from gridaudit.tips.files import read_tip_file

    f = tmp_path / "举报.xlsx"
    wb = xlsxwriter.Workbook(str(f))
    ws = wb.add_worksheet()
    for r, row in enumerate([["台区编号", "举报内容", "举报渠道", "日期"], ["A3", "私接", "网站", "2025-06-05"]]):
        ws.write_row(r, 0, row)
    wb.close()
    [t] = read_tip_file(f)
    assert t.subject.area == "A3" and t.channel == "web" and t.received_on == date(2025, 6, 5)


def test_work_order_tips(dataset):
    from gridaudit.tips.files import work_order_tips

    tips, skipped = work_order_tips(dataset)
    assert [(t.subject.customer, t.source_ref, t.description, t.received_on) for t in tips] == [
        ("C5", "W1", "群众举报绕越计量", date(2025, 6, 20))
    ]
    assert skipped == ["W3"]


def test_reward_settings_and_amount(tmp_path):
    from gridaudit.settings_file import SettingsError
    from gridaudit.tips.rewards import load_reward_settings, reward_amount

    f = tmp_path / "rewards.yaml"
    f.write_text(
        "versions:\n  - {effective_from: 2024-01-01, share: 0.1, cap_yuan: 500}\n"
        "  - {effective_from: 2025-07-01, share: 0.05, cap_yuan: 2000, min_basis_yuan: 100}\n",
        "utf-8",
    )
    s = load_reward_settings(f)
    old, new = s.in_force(date(2025, 6, 30)), s.in_force(date(2025, 7, 1))
    assert (old.share, old.cap_yuan) == (0.1, 500) and (new.share, new.cap_yuan) == (0.05, 2000)
    assert reward_amount(3000, old)[0] == 300.0
    amount, formula = reward_amount(9000, old)
    assert amount == 500.0 and "capped" in formula
    assert reward_amount(99, new)[0] == 0.0
    with pytest.raises(AuditError, match="no reward setting in force on 2023-12-31"):
        s.in_force(date(2023, 12, 31))
    f.write_text("versions:\n  - {effective_from: 2024-01-01, shares: 0.1}\n", "utf-8")
    with pytest.raises(SettingsError, match=r"versions\[0\]: unknown setting\(s\) shares"):
        load_reward_settings(f)


def test_tip_findings_link_other_findings_and_merge_same_month(store, matcher, dataset):
    import json as _json

    from gridaudit.findings import RunProvenance, append_run, findings_table, load_findings
    from gridaudit.tips.to_findings import publish

    other = findings_table(
        [
            dict(
                rule_id="theft.sustained_drop",
                family="theft",
                severity="high",
                entity_type="customer",
                entity_id="C3",
                period="2025-05",
                score=0.9,
                kwh_at_stake=None,
                yuan_at_stake=1234.0,
                responsible_staff_id=None,
                evidence={"x": 1},
                run_id=None,
            ),  # fmt: skip
        ]
    )
    append_run(dataset, other, RunProvenance(analyzer="rules"))
    with store.transaction() as s:
        add_tips(
            s,
            "li",
            [
                tip(Subject(customer="C3"), what="私拉电线", contact=CONTACT),
                tip(Subject(address="和平街5号", area="A2"), what="绕表"),  # ambiguous: not a finding
                tip(Subject(meter="M3"), what="又见私拉", day=date(2025, 6, 20)),  # same customer, channel, month
                tip(Subject(customer="C1"), what="表快", channel="police"),
            ],
            matcher,
        )
    with store.transaction() as s:
        run = publish(s, dataset)
    assert run is not None and run.analyzer == "tips" and run.rows == 2
    rows = {r["entity_id"]: r for r in load_findings(dataset, analyzers=["tips"]).to_pylist()}
    c3, c1 = rows["C3"], rows["C1"]
    ev = _json.loads(c3["evidence"])
    assert ev["tip_ids"] == [1, 3] and ev["linked_count"] == 1
    assert ev["linked_findings"][0]["rule_id"] == "theft.sustained_drop"
    assert (c3["rule_id"], c3["family"], c3["period"], c3["yuan_at_stake"], c3["score"]) == (
        "tip_95598", "tip", "2025-06", 1234.0, 1.0,
    )  # fmt: skip
    assert c1["rule_id"] == "tip_police" and c1["yuan_at_stake"] is None
    assert _json.loads(c1["evidence"])["money_unknown"] == "no_amount"
    assert CONTACT not in c3["evidence"]
    # publishing again gives the same findings
    with store.transaction() as s:
        again = publish(s, dataset)
    assert sorted(load_findings(dataset, runs=[again.run_id]).column("finding_id").to_pylist()) == sorted(
        r["finding_id"] for r in rows.values()
    )


def test_list_and_show_follow_unit_scope_and_hide_the_reporter(store, matcher):
    from gridaudit.audit.errors import NotFound
    from gridaudit.audit.users import add_user
    from gridaudit.tips.views import list_tips, show_tip

    with store.transaction() as s:
        add_user(s, "admin", "li_u2", "Li U2", "auditor", "U2", None, None)
    with store.transaction() as s:
        add_tips(s, "li", [tip(Subject(customer="C1"), contact=CONTACT), tip(Subject(customer="C3"))], matcher)
    with store.transaction() as s:
        rows, lead = list_tips(s, "li_u2")  # bound to U2: C3's tip only (a unit without a tree is itself)
        assert [r["customer_id"] for r in rows] == ["C3"] and not lead
        with pytest.raises(NotFound, match="unknown tip 1"):
            show_tip(s, "li_u2", 1)
        rows, lead = list_tips(s, "li")
        assert [r["unit_id"] for r in rows] == ["U1", "U2"] and not lead
        assert all("reporter" not in r and CONTACT not in str(r) for r in rows)
        one, lead = show_tip(s, "lead", 1)
        assert lead and one["reporter"] == CONTACT
