"""Render an evidence pack: one self-contained HTML file (styles inline, the chart as inline SVG) or a PDF
made from that HTML. The renderers lay the model out and compute nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridaudit.i18n import Bilingual, Text
from gridaudit.reports.evidence_model import EvidencePack, kwh, yuan

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = (".html", ".pdf")


def _env(lang: str) -> Any:
    """A Jinja2 environment for one language: the ``t`` filter picks that language's text."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["t"] = lambda v: pick(v, lang)
    return env


def pick(value: Any, lang: str) -> str:
    """A cell or label in ``lang``: a bilingual value gives its ``zh`` or ``en`` text, anything else its str."""
    if isinstance(value, Bilingual) and not isinstance(value, str):
        return value.zh if lang == "zh" else value.en
    return "" if value is None else str(value)


def daily_chart(pack: EvidencePack, lang: str) -> str | None:
    """The daily-use chart with meter events and the finding's period shaded, as inline SVG (gridaudit.charts)."""
    if pack.daily is None:
        return None
    from datetime import date

    from gridaudit.charts import daily_use_chart
    from gridaudit.charts.render import to_svg

    d = pack.daily
    window = (date.fromisoformat(d.window[0]), date.fromisoformat(d.window[1])) if d.window else None
    spec = daily_use_chart(
        [{"day": day, "kwh": v} for day, v in zip(d.days, d.kwh, strict=True)],
        d.events,
        window,
        lang=lang,
        width=640,
        height=220,
    )
    return to_svg(spec)


def render_html(pack: EvidencePack, lang: str = "zh") -> str:
    """The pack as one HTML document with its styles and chart inline (opens offline, loads nothing)."""
    template = _env(lang).get_template("evidence.html")
    return str(
        template.render(
            pack=pack,
            lang=lang,
            css=(TEMPLATES / "evidence.css").read_text("utf-8"),
            chart=daily_chart(pack, lang),
            L=lambda zh, en: pick(Text(zh, en), lang),
            fmt_yuan=yuan,
            fmt_kwh=kwh,
        )
    )


def render(pack: EvidencePack, suffix: str, lang: str = "zh") -> bytes:
    """The pack as the bytes of a ``.html`` or ``.pdf`` file."""
    html = render_html(pack, lang)
    if suffix.lower() == ".pdf":
        from gridaudit.reports.pdf import html_to_pdf

        title = pick(pack.title, lang)
        return html_to_pdf(html, lang=lang, footer=f"{title} · {pack.generated_at}", title=title)
    return html.encode("utf-8")


def write_file(data: bytes, out: Path) -> Path:
    """Write ``data`` to ``out``, replacing the file atomically (never half a file)."""
    from gridaudit.dataset import replacing

    with replacing(out) as tmp:
        tmp.write_bytes(data)
    return out
