"""What a tip names and how it arrived: channels with their Chinese names, subject fields, address
normalisation and the key that recognises the same tip entered twice."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from gridaudit.audit.errors import AuditError

# channel → (中文, English)
CHANNELS: dict[str, tuple[str, str]] = {
    "95598": ("95598 热线", "95598 hotline"),
    "phone": ("电话", "phone"),
    "letter": ("信函", "letter"),
    "walk_in": ("来访", "walk-in"),
    "web": ("网站/网络", "web"),
    "police": ("公安转办", "police"),
}
CHANNEL_ALIASES: dict[str, str] = {
    "95598热线": "95598",
    "热线": "95598",
    "客服": "95598",
    "电话": "phone",
    "电话举报": "phone",
    "信函": "letter",
    "来信": "letter",
    "信件": "letter",
    "来访": "walk_in",
    "上门": "walk_in",
    "walk-in": "walk_in",
    "walkin": "walk_in",
    "网站": "web",
    "网络": "web",
    "网上": "web",
    "网上举报": "web",
    "公安": "police",
    "公安转办": "police",
    "警方": "police",
    "派出所": "police",
}
SUBJECT_KINDS = ("customer", "meter", "address", "area")  # in the order a subject is matched by
SUBJECT_ZH = {"customer": "用户编号", "meter": "电能表", "address": "地址", "area": "台区"}
RULE_PREFIX = "tip_"


def rule_id(channel: str) -> str:
    """The rule id of a tip's finding: one per channel, so its hit rate is learned per channel."""
    return f"{RULE_PREFIX}{channel}"


RULE_IDS = tuple(rule_id(c) for c in CHANNELS)


def parse_channel(text: str | None) -> str:
    """A channel code from its code or Chinese name (e.g. 公安 → police); anything else is an error."""
    value = (text or "").strip()
    low = value.lower().replace(" ", "")
    if low in CHANNELS:
        return low
    if low in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[low]
    if value in CHANNEL_ALIASES:
        return CHANNEL_ALIASES[value]
    known = ", ".join(CHANNELS)
    raise AuditError(
        f"举报渠道 {value!r} 无效（可用 {known}，或 电话、信函、来访、网站、公安 等）",
        f"tip channel {value!r} is not known (use {known}, or their Chinese names: docs/tips.md)",
    )


def channel_label(channel: str) -> str:
    """'电话 phone' style label."""
    zh, en = CHANNELS.get(channel, (channel, channel))
    return f"{zh} ({en})"


_PUNCT = re.compile(r"[\s\-_,，.。·、/\\#＃()（）\[\]【】:：;；\"'“”‘’]+")


def normalize_address(text: str | None) -> str:
    """An address in one form for comparison: full-width to half-width (NFKC), lower case, no spaces or
    punctuation, 〇 as 0 (``北京市 朝阳区（三号楼）`` and ``北京市朝阳区三号楼`` are the same)."""
    if not text:
        return ""
    out = unicodedata.normalize("NFKC", text).lower().replace("〇", "0")
    return _PUNCT.sub("", out)


@dataclass(frozen=True)
class Subject:
    """What a tip names: any of customer id, meter id, address, area id (at least one)."""

    customer: str | None = None
    meter: str | None = None
    address: str | None = None
    area: str | None = None

    @property
    def kind(self) -> str:
        """The field the tip is matched by first (customer, then meter, address, area)."""
        for k in SUBJECT_KINDS:
            if getattr(self, k):
                return k
        raise AuditError(
            "举报对象为空：请给出用户编号、电能表、地址或台区之一",
            "the tip names no subject: give a customer id, meter, address or area",
        )

    def as_dict(self) -> dict[str, str]:
        """The fields given (stored as JSON)."""
        return {k: str(getattr(self, k)) for k in SUBJECT_KINDS if getattr(self, k)}


def clean(value: object) -> str | None:
    """A field's text stripped, None when empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class TipInput:
    """One tip as entered (CLI, file row or work order): everything but who entered it."""

    subject: Subject
    description: str
    channel: str
    received_on: date
    contact: str | None = None
    source: str = "cli"
    source_ref: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def key(self) -> str:
        """The dedup key: the same subject, channel, day and text is the same tip (the reporter is not part of
        it, so the key reveals nothing about them); a work order's tip is its order id."""
        if self.source == "work_order" and self.source_ref:
            basis: object = ["work_order", self.source_ref]
        else:
            subj = {
                k: normalize_address(v) if k == "address" else v.strip().upper()
                for k, v in self.subject.as_dict().items()
            }
            basis = [subj, self.channel, self.received_on.isoformat(), normalize_address(self.description)]
        text = json.dumps(basis, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_description(text: str | None) -> str:
    """What was reported: required, stripped."""
    value = clean(text)
    if value is None:
        raise AuditError("请写明举报内容（--what）", "say what was reported (--what)")
    return value


def entered_tip(
    customer: object,
    meter: object,
    address: object,
    area: object,
    what: str | None,
    channel: str | None,
    day: date | None,
    contact: object = None,
    source: str = "cli",
) -> TipInput:
    """One tip as a person enters it (``gridaudit tips add``, the web form): a subject, what was reported, the
    channel, the day (default today, never in the future) and the optional reporter contact; ``source``: ``cli``
    or ``web``. Bad input is an ``AuditError`` naming the field."""
    received = day or date.today()
    if received > date.today():
        raise AuditError(f"举报日期 {received} 在将来", f"the day the tip was received ({received}) is in the future")
    subject = Subject(clean(customer), clean(meter), clean(address), clean(area))
    subject.kind  # noqa: B018 - refuses an empty subject
    return TipInput(subject, check_description(what), parse_channel(channel), received, clean(contact), source)
