"""HTML → PDF with WeasyPrint: A4, page numbers, table headers repeated on every page, a CJK font embedded.

The one way gridaudit writes a PDF (the monthly report, the evidence pack). The page CSS here comes before
the document's own styles; the CJK font (:mod:`gridaudit.reports.fonts`) is declared with ``@font-face`` from
its file, so WeasyPrint embeds a subset of it. Nothing is fetched from the network: the URL fetcher serves
``data:`` URIs and the font files only, and refuses anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridaudit.i18n import both, get_lang
from gridaudit.reports.fonts import CJKFont, cjk_font, font_face_css


class PdfError(RuntimeError):
    """The PDF could not be written (the message is zh / en)."""


def page_css(font: CJKFont, lang: str | None = None, footer: str = "") -> str:
    """The print stylesheet: A4 with margins, ``footer`` at bottom left, "第 n 页 / 共 N 页" at bottom right,
    the CJK font as the body font, table headers repeated and rows kept whole across page breaks."""
    lang = lang or get_lang()
    counter = (
        '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
        if lang == "zh"
        else '"Page " counter(page) " of " counter(pages)'
    )
    quoted = footer.replace("\\", "\\\\").replace('"', '\\"')
    fam = font.family.replace('"', "")
    return f"""{font_face_css(font)}
@page {{
  size: A4; margin: 18mm 15mm 20mm 15mm;
  @bottom-right {{ content: {counter}; font-family: "{fam}"; font-size: 8pt; color: #555; }}
  @bottom-left {{ content: "{quoted}"; font-family: "{fam}"; font-size: 8pt; color: #555; }}
}}
html, body {{ font-family: "{fam}", sans-serif; font-size: 9.5pt; }}
thead {{ display: table-header-group; }}
tfoot {{ display: table-footer-group; }}
tr, img, svg, figure {{ break-inside: avoid; }}
h1, h2, h3 {{ break-after: avoid; }}
"""


def _fetcher(allowed: set[str]) -> Any:
    """A WeasyPrint URL fetcher serving ``data:`` URIs and the ``allowed`` URLs; anything else stops the PDF."""
    from weasyprint.urls import URLFetcher

    class LocalOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:") or url in allowed:
                return super().fetch(url, headers)
            raise ValueError(f"external resource refused: {url}")

    return LocalOnly(fail_on_errors=True, allowed_protocols=("data", "file"))


def html_to_pdf(
    html: str,
    out: str | Path | None = None,
    *,
    font: CJKFont | None = None,
    lang: str | None = None,
    footer: str = "",
    title: str | None = None,
) -> bytes:
    """``html`` as an A4 PDF (bytes; also written to ``out`` when given) with the CJK font embedded.

    ``font`` defaults to :func:`gridaudit.reports.fonts.cjk_font` (``FontNotFound`` when there is none);
    ``footer`` is printed at the bottom left of every page; ``title`` sets the PDF's title."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import FatalURLFetchingError

    font = font or cjk_font()
    allowed = {p.resolve().as_uri() for p in font.files()}
    fetch = _fetcher(allowed)
    try:
        doc = HTML(string=html, url_fetcher=fetch, base_url=None)
        rendered = doc.render(stylesheets=[CSS(string=page_css(font, lang, footer), url_fetcher=fetch)])
        if title:
            rendered.metadata.title = title
        data: bytes = rendered.write_pdf()
    except FatalURLFetchingError as exc:
        url = str(exc).partition('"')[2].rstrip('"')
        raise PdfError(
            both(f"报告不得加载外部资源: {url}", f"a report may not load an external resource: {url}")
        ) from exc
    except Exception as exc:  # noqa: BLE001 - WeasyPrint raises many kinds; the caller gets one error type
        raise PdfError(both(f"无法生成 PDF: {exc}", f"cannot write the PDF: {exc}")) from exc
    if out is not None:
        from gridaudit.dataset import replacing

        with replacing(out) as tmp:
            tmp.write_bytes(data)
    return data
