"""The PDF machinery: a CJK font found on the system, embedded by WeasyPrint, Chinese text extractable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gridaudit.i18n import set_lang
from gridaudit.reports.fonts import ENV_VAR, CJKFont, FontNotFound, find_cjk_font
from gridaudit.reports.pdf import PdfError, html_to_pdf


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _table(n: int) -> str:
    rows = "".join(f"<tr><td>{i}</td><td>台区{i:03d}</td></tr>" for i in range(n))
    return f"<table><thead><tr><th>序号</th><th>台区名称</th></tr></thead><tbody>{rows}</tbody></table>"


def test_font_found_is_chinese_single_face(cjk: CJKFont) -> None:
    from fontTools.ttLib import TTFont

    face = TTFont(str(cjk.regular), lazy=True)
    cmap = face.getBestCmap()
    assert all(ord(ch) in cmap for ch in "月度稽查报告线损")
    assert cjk.regular.suffix.lower() in (".ttf", ".otf")  # a collection's Chinese face, extracted
    if "Noto" in cjk.family:
        assert "SC" in cjk.family  # the Simplified Chinese face, not the collection's first (Japanese)


def test_pdf_embeds_cjk_font_and_text_extracts(cjk: CJKFont, poppler: None, tmp_path: Path) -> None:
    set_lang("zh")
    out = tmp_path / "r.pdf"
    html_to_pdf(f"<h1>月度稽查报告</h1><p><b>窃电</b>金额</p>{_table(150)}", out, footer="国网示例供电公司")
    fonts = _run("pdffonts", str(out))
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(" yes " in line for line in rows)  # every font embedded
    assert any(cjk.family.replace(" ", "-") in line for line in rows)
    pages = [_run("pdftotext", "-layout", "-f", str(p), "-l", str(p), str(out), "-") for p in (1, 2, 3)]
    assert "月度稽查报告" in pages[0] and "窃电金额" in pages[0].replace(" ", "")
    assert "台区000" in pages[0]
    assert "台区名称" in pages[1]  # the header is repeated on the next page
    assert "第 1 页 / 共" in pages[0] or "第1页/共" in pages[0].replace(" ", "")
    assert "国网示例供电公司" in pages[0]
    assert "(A4)" in _run("pdfinfo", str(out))


def test_english_page_numbers(cjk: CJKFont, poppler: None, tmp_path: Path) -> None:
    out = tmp_path / "e.pdf"
    html_to_pdf("<p>Monthly 月报</p>", out, lang="en")
    assert "Page 1 of 1" in _run("pdftotext", str(out), "-")


def test_external_resource_refused(cjk: CJKFont, tmp_path: Path) -> None:
    with pytest.raises(PdfError, match="external resource"):
        html_to_pdf('<img src="http://example.com/logo.png"><p>x</p>', tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_font_setting_missing_file_is_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope.ttf"))
    with pytest.raises(FontNotFound, match="nope.ttf"):
        find_cjk_font()
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(FontNotFound, match="not a font file"):
        find_cjk_font(bad)


def test_no_font_anywhere_is_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import gridaudit.reports.fonts as fonts

    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    monkeypatch.setattr(fonts.shutil, "which", lambda _name: None)  # no fontconfig either
    with pytest.raises(FontNotFound, match="fonts-noto-cjk"):
        find_cjk_font()


def test_font_setting_is_used(cjk: CJKFont, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(cjk.regular))
    got = find_cjk_font()
    assert got.regular == cjk.regular and got.bold is None and got.family == cjk.family


def test_font_folder_setting(cjk: CJKFont, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import shutil

    (tmp_path / "notes.ttf").write_bytes(b"not a font")  # skipped: unreadable
    shutil.copy(cjk.regular, tmp_path / f"zz{cjk.regular.suffix}")
    monkeypatch.setenv(ENV_VAR, str(tmp_path))  # a folder, as the charts accept too
    got = find_cjk_font()
    assert got.regular.name == f"zz{cjk.regular.suffix}" and got.family == cjk.family
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FontNotFound, match="empty"):
        find_cjk_font(empty)


def test_fontconfig_is_the_last_resort(cjk: CJKFont, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import gridaudit.reports.fonts as fonts

    if shutil.which("fc-match") is None:
        pytest.skip("fc-match (fontconfig) not installed")
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    got = find_cjk_font()  # the real fc-match answers with a font that has Chinese glyphs
    assert got.source.is_file() and got.family
