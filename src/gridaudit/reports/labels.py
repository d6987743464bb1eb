"""Labels instead of codes, in Chinese and English, for everything a report shows.

Codes that already have a label elsewhere are read from there (task states from ``audit.workflow``; families,
severities, line-loss bands and levels from ``charts.labels``; rule titles from the rule catalog); the rest are
here, once.
"""

from __future__ import annotations

from functools import lru_cache

from gridaudit.charts.labels import BAND_LABEL, FAMILY_LABEL, LEVEL_LABEL, SEVERITY_LABEL
from gridaudit.i18n import Text

FAMILY: dict[str, Text] = FAMILY_LABEL  # one table of family and severity labels: the charts'
SEVERITY: dict[str, Text] = SEVERITY_LABEL
ENTITY: dict[str, Text] = {
    "customer": Text("用户", "customer"),
    "meter": Text("电能表", "meter"),
    "area": Text("台区", "area"),
    "feeder": Text("线路", "feeder"),
    "staff": Text("人员", "staff"),
    "work_order": Text("工单", "work order"),
    "bill": Text("电费账单", "bill"),
}
OUTCOME: dict[str, Text] = {
    "theft": Text("窃电", "theft"),
    "violation": Text("违约用电", "violation"),
    "irregular": Text("异常（内部差错）", "irregular (internal error)"),
    "normal": Text("正常", "normal"),
}
VIOLATION: dict[str, Text] = {
    "theft": Text("窃电", "theft"),
    "tariff_misuse": Text("高价低接", "tariff misuse"),
    "capacity_overuse": Text("私自增容", "capacity overuse"),
    "suspended_use": Text("擅自使用已暂停设备", "use of suspended equipment"),
    "meter_moved": Text("私自迁移/更动计量装置", "meter moved or altered"),
    "resale": Text("私自转供电", "resale of electricity"),
    "seal_broken": Text("封印破坏", "seal broken"),
    "other": Text("其他", "other"),
}
CHECK_KIND: dict[str, Text] = {"desk": Text("案头", "desk"), "field": Text("现场", "field")}
KIND: dict[str, Text] = {
    "comprehensive": Text("综合稽查", "comprehensive audit"),
    "special": Text("专项稽查", "special audit"),
}
RECT_STATUS: dict[str, Text] = {
    "open": Text("整改中", "open"),
    "replied": Text("已回复", "replied"),
    "rejected": Text("已驳回", "rejected"),
    "accepted": Text("已通过", "accepted"),
}
# rule ids written by analyzers that are not in the rule catalog
ANALYZER_RULES: dict[str, Text] = {
    "loss_area_negative": Text("台区负损", "negative-loss area"),
    "loss_area_high": Text("台区高损", "high-loss area"),
    "loss_area_extreme": Text("台区超高损", "extreme-loss area"),
    "loss_customer_suspect": Text("高损台区可疑用户", "suspect customer of a high-loss area"),
    "loss_mapping_error": Text("户变关系错误", "customer mapped to the wrong area"),
    "loss_trend_rise": Text("台区线损率突增", "area loss rate jumped"),
    "loss_persistent_high": Text("台区持续高损", "area persistently high-loss"),
    "theft_risk": Text("窃电风险评分", "theft-risk score"),
}


def _from(table: dict[str, Text], code: str | None) -> Text:
    if code is None or code == "":
        return Text("—", "—")
    return table.get(code, Text(code, code))


def family(code: str | None) -> Text:
    """The label of a finding family."""
    return _from(FAMILY, code)


def severity(code: str | None) -> Text:
    """The label of a severity."""
    return _from(SEVERITY, code)


def entity(code: str | None) -> Text:
    """The label of an entity type."""
    return _from(ENTITY, code)


def outcome(code: str | None) -> Text:
    """The label of an inspection outcome."""
    return _from(OUTCOME, code)


def violation(code: str | None) -> Text:
    """The label of a violation (penalty) type."""
    return _from(VIOLATION, code)


def kind(code: str | None) -> Text:
    """The label of a plan kind."""
    return _from(KIND, code)


def rect_status(code: str | None) -> Text:
    """The label of a rectification's status."""
    return _from(RECT_STATUS, code)


def state(code: str | None) -> Text:
    """The label of a task state (``audit.workflow.STATES``)."""
    from gridaudit.audit.workflow import STATES

    if code in STATES:
        zh, en = STATES[code]
        return Text(zh, en)
    return _from({}, code)


def band(code: str | None) -> Text:
    """The label of a line-loss band (``charts.labels.BAND_LABEL``)."""
    return _from(BAND_LABEL, code)


def level(code: str | None) -> Text:
    """The label of a line-loss level (area, feeder, voltage, unit; ``charts.labels.LEVEL_LABEL``)."""
    return _from(LEVEL_LABEL, code)


@lru_cache(maxsize=1)
def _catalog_titles() -> dict[str, Text]:
    from gridaudit.rules.loader import load_catalog

    return {r.id: Text(r.header.title.zh, r.header.title.en) for r in load_catalog()}


def rule(rule_id: str | None) -> Text:
    """A rule's title (the catalog's, or an analyzer's own rule); the id itself when unknown."""
    if rule_id in ANALYZER_RULES:
        return ANALYZER_RULES[rule_id]
    return _catalog_titles().get(rule_id or "", _from({}, rule_id))
