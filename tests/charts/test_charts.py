"""Chart builders: each spec renders with vl-convert (schema-valid), Chinese shows as text in the SVG,
English on request, links and the theft window land where they should, the font and runtime are found."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from gridaudit.charts import (
    CjkFontError,
    band_counts_chart,
    bar_chart,
    daily_use_chart,
    find_cjk_font,
    findings_chart,
    label,
    line_chart,
    loss_trend_chart,
    stacked_bar_chart,
    supply_sales_loss_chart,
)
from gridaudit.charts.render import format_locale, runtime_js, to_png, to_svg

D0 = date(2024, 6, 1)
USAGE = [{"day": D0 + timedelta(days=i), "kwh": 10.0 + i % 3} for i in range(30)]
EVENTS = [{"ts": datetime(2024, 6, 11, 9, 30), "event_type": "cover_open", "detail": "表盖"}]


def _all_specs(lang: str) -> dict[str, dict]:
    return {
        "use": daily_use_chart(USAGE, EVENTS, (date(2024, 6, 11), date(2024, 6, 19)), lang=lang),
        "ssl": supply_sales_loss_chart(
            [
                {"day": D0 + timedelta(days=i), "supply_kwh": 100.0, "sales_kwh": 93.0, "loss_kwh": 7.0}
                for i in range(5)
            ],
            lang=lang,
        ),
        "trend": loss_trend_chart(
            [{"period": f"2024-{m:02d}", "loss_rate_pct": 4.0 + m, "name": "A1"} for m in range(1, 7)], lang=lang
        ),
        "bands": band_counts_chart([{"band": "normal", "count": 50}, {"band": "high", "count": 3}], lang=lang),
        "bands_level": band_counts_chart(
            [{"level": "area", "band": "normal", "count": 5}, {"level": "feeder", "band": "extreme", "count": 1}],
            by="level",
            lang=lang,
        ),
        "bands_period": band_counts_chart(
            [{"period": "2024-02", "band": "watch", "count": 2}, {"period": "2024-01", "band": "normal", "count": 9}],
            by="period",
            lang=lang,
        ),
        "findings": findings_chart(
            [
                {"family": "theft", "severity": "critical", "count": 2, "yuan": 3000.0},
                {"family": "billing", "severity": "low", "count": 9, "yuan": 80.5},
            ],
            lang=lang,
        ),
        "findings_yuan": findings_chart(
            [{"family": "theft", "severity": "high", "count": 1, "yuan": 5.0}], measure="yuan", lang=lang
        ),
        "line": line_chart(
            [{"d": D0, "v": 1.0, "s": "x"}, {"d": D0 + timedelta(days=1), "v": 2.0, "s": "x"}],
            "d",
            "v",
            color="s",
            title=("标题" if lang == "zh" else "Title"),
            lang=lang,
        ),
        "bar": bar_chart([{"k": "a", "v": 1}, {"k": "b", "v": 2}], "k", "v", lang=lang),
        "stacked": stacked_bar_chart(
            [{"k": "a", "v": 1, "s": "p"}, {"k": "a", "v": 2, "s": "q"}], "k", "v", "s", lang=lang
        ),
    }


def _texts(svg: str) -> str:
    return " ".join(re.findall(r">([^<>]+)</text>", svg))


@pytest.mark.parametrize("name", list(_all_specs("zh")))
def test_every_builder_renders_to_svg(name):
    svg = to_svg(_all_specs("zh")[name])
    assert svg.lstrip().startswith("<svg")
    assert "<path" in svg or "<line" in svg or "<rect" in svg


def test_chinese_labels_are_text_in_the_svg_and_english_on_request():
    zh = {k: _texts(to_svg(s)) for k, s in _all_specs("zh").items()}
    en = {k: _texts(to_svg(s)) for k, s in _all_specs("en").items()}
    assert "疑似窃电时段" in zh["use"] and "开表盖" in zh["use"] and "日用电量" in zh["use"]
    assert "suspected theft window" in en["use"] and "cover open" in en["use"]
    assert "供电量" in zh["ssl"] and "售电量" in zh["ssl"] and "损失电量" in zh["ssl"]
    assert "supply" in en["ssl"] and "供电量" not in en["ssl"]
    assert "线损率趋势" in zh["trend"] and "2024-03" in zh["trend"]
    assert "正常" in zh["bands"] and "高损" in zh["bands"] and "high" in en["bands"]
    assert "台区" in zh["bands_level"] and "线路" in zh["bands_level"] and "超高损" in zh["bands_level"]
    assert "窃电" in zh["findings"] and "严重" in zh["findings"] and "theft" in en["findings"]
    assert "涉及金额" in zh["findings_yuan"]


def test_png_renders_chinese_with_the_cjk_font():
    png = to_png(_all_specs("zh")["use"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_theft_window_covers_its_last_day_and_events_are_rules():
    spec = daily_use_chart(USAGE, EVENTS, (date(2024, 6, 11), date(2024, 6, 19)), lang="zh")
    rect = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rect")
    win = rect["data"]["values"][0]
    assert win["start"] == "2024-06-11T00:00:00" and win["end"] == "2024-06-20T00:00:00"
    rule = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    assert rule["data"]["values"][0]["ts"] == "2024-06-11T09:30:00"
    assert rule["data"]["values"][0]["event"] == "开表盖"
    assert spec["data"]["values"][0] == {"day": "2024-06-01T00:00:00", "kwh": 10.0}
    no_window = daily_use_chart(USAGE, lang="zh")
    assert [layer["mark"]["type"] for layer in no_window["layer"]] == ["line"]


def test_rows_with_href_link_their_marks():
    spec = findings_chart(
        [
            {
                "family": "theft",
                "severity": "high",
                "count": 1,
                "yuan": 2.0,
                "href": "/findings?family=theft&severity=high",
            }
        ],
        lang="en",
    )
    assert spec["encoding"]["href"] == {"field": "href", "type": "nominal"}
    assert spec["data"]["values"][0]["href"] == "/findings?family=theft&severity=high"
    assert "href" not in findings_chart([{"family": "theft", "severity": "high", "count": 1}])["encoding"]
    svg = to_svg(spec)
    assert "/findings?family=theft" in svg  # vl-convert keeps the link on the mark


def test_band_order_and_colours_are_fixed():
    spec = band_counts_chart([{"band": "high", "count": 1}, {"band": "normal", "count": 2}], lang="zh")
    assert spec["encoding"]["x"]["sort"][:3] == ["负损", "正常", "关注"]
    assert spec["encoding"]["color"]["scale"]["range"][1] == "#2e8b57"


def test_loss_trend_shades_the_normal_band_given():
    spec = loss_trend_chart([{"period": "2024-01", "loss_rate_pct": 5.0}], normal=(0.0, 8.5), high_from=12.0, lang="en")
    band = spec["layer"][0]["data"]["values"][0]
    assert (band["lo"], band["hi"]) == (0.0, 8.5)
    assert spec["layer"][1]["data"]["values"][0]["v"] == 12.0
    assert spec["data"]["values"][0] == {"period": "2024-01-01T00:00:00", "rate": 5.0}
    with pytest.raises(ValueError, match="YYYY-MM"):
        loss_trend_chart([{"period": "2024-1", "loss_rate_pct": 5.0}])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="measure"):
        findings_chart([], measure="kwh")
    with pytest.raises(ValueError, match="by must"):
        band_counts_chart([], by="unit")
    with pytest.raises(ValueError, match="unknown language"):
        findings_chart([], lang="fr")


def test_labels_name_codes_and_keep_unknown_ones():
    assert label("family", "theft", "zh") == "窃电"
    assert label("severity", "critical", "en") == "critical"
    assert label("event", "voltage_loss", "zh") == "失压"
    assert label("band", "no_such_band", "zh") == "no_such_band"
    assert label("category", "residential", "zh") == "居民" and label("read_type", "ami", "en") == "ami"
    with pytest.raises(ValueError):
        label("colour", "red")


def test_font_found_on_the_system_and_a_bad_directory_is_a_clear_error(tmp_path, monkeypatch):
    font = find_cjk_font()
    assert font.file.is_file() and ("CJK" in font.family or "WenQuanYi" in font.family)
    with pytest.raises(CjkFontError, match="no Chinese font"):
        find_cjk_font(tmp_path)
    monkeypatch.setenv("GRIDAUDIT_CJK_FONT", str(tmp_path / "missing"))
    with pytest.raises(CjkFontError, match="not found"):
        find_cjk_font()
    monkeypatch.setenv("GRIDAUDIT_CJK_FONT", str(font.directory))
    assert find_cjk_font().family == font.family
    monkeypatch.setenv("GRIDAUDIT_CJK_FONT", str(font.file))
    assert find_cjk_font().file == font.file and find_cjk_font().family == font.family


def test_runtime_bundle_and_locales():
    js = runtime_js()
    assert "window.vegaEmbed" in js and len(js) > 100_000
    assert runtime_js() is js  # built once
    zh = format_locale("zh")
    assert zh["number"]["currency"][0] == "¥" and "星期一" in zh["time"]["days"]
