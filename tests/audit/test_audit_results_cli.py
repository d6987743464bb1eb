"""Recording a result from the CLI: a check date after today is refused, the contract's Chinese outcome labels
are accepted (异常 → irregular), and amounts not given stay blank instead of 0."""

from datetime import timedelta

from gridaudit.audit.models import Result
from gridaudit.audit.store import open_store
from gridaudit.audit.trail import now_utc

from .test_audit_cli import cli, setup_store


def _assigned(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), "--top", "3", user="lead")
    cli(store_url, "tasks", "assign", "2", "--to", "sun", user="lead")


def _results(store_url):
    st = open_store(store_url)
    try:
        with st.transaction() as s:
            return [(r.outcome, r.recovered_kwh, r.recovered_yuan) for r in s.query(Result).order_by(Result.result_id)]
    finally:
        st.dispose()


def test_future_check_date_is_refused(store_url, tmp_path):
    _assigned(store_url, tmp_path)
    tomorrow = (now_utc().date() + timedelta(days=1)).isoformat()
    out = cli(store_url, "tasks", "result", "2", "--outcome", "theft", "--on", tomorrow, user="sun", code=2)
    assert f"the check date {tomorrow} is after today" in out
    assert _results(store_url) == []  # nothing recorded


def test_chinese_outcome_label_and_blank_amounts(store_url, tmp_path):
    _assigned(store_url, tmp_path)
    out = cli(store_url, "tasks", "result", "2", "--outcome", "异常", "--kind", "desk", user="sun")
    assert "result irregular recorded" in out
    assert _results(store_url) == [("irregular", None, None)]  # not established at the check: blank, not 0
    out = cli(store_url, "tasks", "result", "2", "--outcome", "nosuch", user="sun", code=2)
    assert "outcome 'nosuch' must be one of" in out
