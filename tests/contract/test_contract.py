from pathlib import Path

from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.contract import load_contract
from gridaudit.contract.render import contract_markdown

DESIGN_TABLES = {
    "units",
    "feeders",
    "areas",
    "staff",
    "customers",
    "meters",
    "tariffs",
    "readings",
    "bills",
    "payments",
    "daily_usage",
    "interval_usage",
    "meter_events",
    "work_orders",
    "work_order_steps",
    "seals",
    "inspections",
}


def test_contract_has_the_17_design_tables():
    c = load_contract()
    assert set(c.tables) == DESIGN_TABLES


def test_required_columns_match_design():
    c = load_contract()
    assert c.table("readings").required == ["meter_id", "period", "read_on", "reading", "read_type"]
    assert c.table("customers").required == [
        "customer_id",
        "unit_id",
        "category",
        "tariff_code",
        "voltage_kv",
        "contract_kva",
        "status",
    ]


def test_aliases_resolve_chinese_names():
    c = load_contract()
    assert c.table_for_name("用户档案.xlsx") == "customers"
    assert c.table_for_name("customers.csv") == "customers"
    assert c.table_for_name("抄表示数.CSV") == "readings"
    assert c.table_for_name("nonsense.csv") is None
    assert c.column_for_header("customers", "用户编号") == "customer_id"
    assert c.column_for_header("readings", "抄表日期") == "read_on"
    assert c.column_for_header("customers", "合同容量（kVA）") == "contract_kva"
    assert c.column_for_header("customers", " Customer_ID ") == "customer_id"
    assert c.domains["category"].canonical("居民") == "residential"
    assert c.domains["customer_status"].canonical("暂停") == "suspended"
    assert c.domains["customer_status"].canonical("bogus") is None


def test_docs_contract_md_in_sync():
    doc = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
    assert doc.read_text("utf-8") == contract_markdown(load_contract()), (
        "docs/contract.md is stale: run `gridaudit contract --format md > docs/contract.md`"
    )


def test_cli_contract_md_and_help():
    runner = CliRunner()
    out = runner.invoke(app, ["contract", "--format", "md"])
    assert out.exit_code == 0
    assert "## readings" in out.stdout
    helped = runner.invoke(app, ["contract", "--help"])
    assert "Example" in helped.stdout
    bad = runner.invoke(app, ["contract", "--table", "nope"])
    assert bad.exit_code == 2
