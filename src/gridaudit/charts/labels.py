"""Labels a person reads for the codes the charts (and the pages and reports around them) show.

One place for the Chinese and English names of finding families, severities, loss bands, loss levels,
and the contract's coded values (meter events, categories, read types, roles):
charts put these labels in their data, web pages and reports use the same ones.
``label(kind, code, lang)`` gives one; an unknown code is shown as itself rather than hidden.
"""

from __future__ import annotations

from functools import cache

from gridaudit.i18n import LANGS, Text, get_lang

FAMILY_LABEL: dict[str, Text] = {
    "reading": Text("抄表", "reading"),
    "billing": Text("核算", "billing"),
    "tariff": Text("电价", "tariff"),
    "collection": Text("电费回收", "collection"),
    "process": Text("业扩流程", "process"),
    "metering": Text("计量", "metering"),
    "seal": Text("封印", "seals"),
    "contract": Text("合同与容量", "contract"),
    "theft": Text("窃电", "theft"),
    "loss": Text("线损", "line loss"),
}

SEVERITY_LABEL: dict[str, Text] = {
    "low": Text("低", "low"),
    "medium": Text("中", "medium"),
    "high": Text("高", "high"),
    "critical": Text("严重", "critical"),
}

BAND_LABEL: dict[str, Text] = {
    "negative": Text("负损", "negative"),
    "normal": Text("正常", "normal"),
    "watch": Text("关注", "watch"),
    "high": Text("高损", "high"),
    "extreme": Text("超高损", "extreme"),
    "not_computable": Text("不可计算", "not computable"),
}

LEVEL_LABEL: dict[str, Text] = {
    "area": Text("台区", "area"),
    "feeder": Text("线路", "feeder"),
    "voltage": Text("电压等级", "voltage level"),
    "unit": Text("供电单位", "unit"),
}

SERIES_LABEL: dict[str, Text] = {
    "supply_kwh": Text("供电量", "supply"),
    "sales_kwh": Text("售电量", "sales"),
    "loss_kwh": Text("损失电量", "loss"),
    "kwh": Text("日电量", "daily use"),
    "count": Text("数量", "count"),
    "yuan": Text("涉及金额（元）", "money at stake (yuan)"),
}

# chart colours of bands and severities (fixed so a band has one colour on every page and report)
BAND_COLOR = {
    "negative": "#8e44ad",
    "normal": "#2e8b57",
    "watch": "#e0a800",
    "high": "#d9480f",
    "extreme": "#a61e1e",
    "not_computable": "#9e9e9e",
}
SEVERITY_COLOR = {"low": "#8fa8c8", "medium": "#e0a800", "high": "#d9480f", "critical": "#a61e1e"}


# kinds whose labels come from a domain of the import contract (its first Chinese alias of each code)
DOMAIN_KINDS = {
    "event": "event_type",
    "category": "category",
    "customer_status": "customer_status",
    "read_type": "read_type",
    "staff_role": "staff_role",
    "meter_role": "meter_role",
}


@cache
def domain_labels(domain_name: str) -> dict[str, Text]:
    """The codes of a contract domain with their Chinese name (the first alias naming each code)."""
    from gridaudit.contract.spec import load_contract

    domain = load_contract().domains[domain_name]
    out: dict[str, Text] = {}
    for code in domain.values:
        zh = next((alias for alias, c in domain.aliases.items() if c == code), code)
        out[code] = Text(zh, code.replace("_", " "))
    return out


def event_labels() -> dict[str, Text]:
    """Meter event types (the contract's ``event_type`` domain) with their Chinese names."""
    return domain_labels("event_type")


_KINDS: dict[str, dict[str, Text]] = {
    "family": FAMILY_LABEL,
    "severity": SEVERITY_LABEL,
    "band": BAND_LABEL,
    "level": LEVEL_LABEL,
    "series": SERIES_LABEL,
}


def resolve_lang(lang: str | None) -> str:
    """``lang`` checked (``zh`` or ``en``), or the process language when None."""
    lang = lang or get_lang()
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use zh or en")
    return lang


def text_in(text: Text | str, lang: str | None = None) -> str:
    """A :class:`Text` (or a plain string, returned as is) in ``lang``."""
    if isinstance(text, str):
        return text
    return text.zh if resolve_lang(lang) == "zh" else text.en


def label(kind: str, code: str, lang: str | None = None) -> str:
    """The label of ``code`` of ``kind`` in ``lang``: family, severity, band, level, series, or a contract
    domain (event, category, customer_status, read_type, staff_role, meter_role). Outcomes, rectification
    states and rule titles are the reports' (``gridaudit.reports.labels``)."""
    table = domain_labels(DOMAIN_KINDS[kind]) if kind in DOMAIN_KINDS else _KINDS.get(kind)
    if table is None:
        raise ValueError(f"unknown label kind {kind!r}: use {', '.join([*_KINDS, *DOMAIN_KINDS])}")
    found = table.get(code)
    return code if found is None else text_in(found, lang)
