"""Readable explanations: each feature's meaning in Chinese and English, and the top contributions of a score."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

# feature → (Chinese, English, how to show the value: "ratio" as %, "num", "int", "share" as %)
FEATURE_TEXT: dict[str, tuple[str, str, str]] = {
    "n_weeks": ("有数据周数", "weeks with data", "int"),
    "n_days": ("有数据天数", "days with data", "int"),
    "mean_kwh": ("日均电量(kWh)", "mean daily kWh", "num"),
    "med_kwh": ("周日均电量中位数(kWh)", "median weekly mean kWh/day", "num"),
    "dip4_raw": ("最低4周用电/自身中位", "lowest 4-week use vs own median", "ratio"),
    "recent4_raw": ("近4周用电/自身中位", "last 4 weeks vs own median", "ratio"),
    "base_dip4": ("最低4周基荷(周最小日)/自身中位", "lowest 4-week base load (minimum day) vs own median", "ratio"),
    "base_dip13": ("最低13周基荷/自身中位", "lowest 13-week base load vs own median", "ratio"),
    "base_recent4": ("近4周基荷/自身中位", "base load of the last 4 weeks vs own median", "ratio"),
    "dip4_base": ("最低4周日均用电/自身基荷", "lowest 4-week use vs own base load", "ratio"),
    "dip4": ("最低4周用电/自身中位(同类校正)", "lowest 4-week use vs own median (peer-adjusted)", "ratio"),
    "dip13": ("最低13周用电/自身中位(同类校正)", "lowest 13-week use vs own median (peer-adjusted)", "ratio"),
    "drop4_prior": ("4周用电/此前13周(最大降幅)", "4-week use vs the 13 weeks before (largest drop)", "ratio"),
    "recent4": ("近4周用电/自身中位(同类校正)", "last 4 weeks vs own median (peer-adjusted)", "ratio"),
    "recent13": ("近13周用电/自身中位(同类校正)", "last 13 weeks vs own median (peer-adjusted)", "ratio"),
    "cp_ratio": ("变点后/变点前用电(对数差)", "use after vs before the change point (log)", "num"),
    "cp_t": ("用电突降变点强度", "strength of a step drop (change point t)", "num"),
    "scan_t4": ("4周窗口低谷显著性", "significance of a 4-week dip", "num"),
    "scan_t13": ("13周窗口低谷显著性", "significance of a 13-week dip", "num"),
    "scan_t26": ("26周窗口低谷显著性", "significance of a 26-week dip", "num"),
    "scan_t52": ("52周窗口低谷显著性", "significance of a 52-week dip", "num"),
    "scan_d4": ("4周窗口低谷深度(对数)", "depth of a 4-week dip (log)", "num"),
    "scan_d13": ("13周窗口低谷深度(对数)", "depth of a 13-week dip (log)", "num"),
    "scan_d26": ("26周窗口低谷深度(对数)", "depth of a 26-week dip (log)", "num"),
    "scan_d52": ("52周窗口低谷深度(对数)", "depth of a 52-week dip (log)", "num"),
    "scan_c4": ("4周日波动突增显著性", "significance of a 4-week rise in day-to-day volatility", "num"),
    "scan_c13": ("13周日波动突增显著性", "significance of a 13-week rise in day-to-day volatility", "num"),
    "sus_t4": ("连续4周持续低于常态的显著性", "significance of 4 weeks all below normal", "num"),
    "sus_t8": ("连续8周持续低于常态的显著性", "significance of 8 weeks all below normal", "num"),
    "sus_t13": ("连续13周持续低于常态的显著性", "significance of 13 weeks all below normal", "num"),
    "sus_d4": ("连续4周持续降幅(对数)", "sustained 4-week drop (log)", "num"),
    "sus_d8": ("连续8周持续降幅(对数)", "sustained 8-week drop (log)", "num"),
    "sus_d13": ("连续13周持续降幅(对数)", "sustained 13-week drop (log)", "num"),
    "noise_week": ("周用电噪声水平", "week-to-week noise", "num"),
    "low_week_share": ("低用电周占比", "share of low weeks", "share"),
    "cv_week": ("周用电变异系数", "weekly coefficient of variation", "num"),
    "cv_day": ("日用电变异系数", "daily coefficient of variation", "num"),
    "cvw_med": ("周内日波动中位", "median within-week variation", "num"),
    "cvw_recent": ("近4周日波动/中位", "recent within-week variation vs median", "ratio"),
    "trend_year": ("年化用电趋势", "yearly trend of use", "ratio"),
    "zero_share": ("零电量天占比", "share of zero days", "share"),
    "near_zero_share": ("近零电量天占比", "share of near-zero days", "share"),
    "zero_share_recent": ("近期零电量天占比", "recent share of zero days", "share"),
    "weekend_ratio": ("周末/工作日用电", "weekend vs weekday use", "ratio"),
    "winter_summer_ratio": ("冬季/夏季用电", "winter vs summer use", "ratio"),
    "coverage": ("数据完整率", "data coverage", "share"),
    "gap_weeks": ("缺数周数", "weeks without data", "int"),
    "missing_recent": ("近期缺数比例", "recent missing share", "share"),
    "short_week_share": ("不完整周占比", "share of incomplete weeks", "share"),
    "drop4_age": ("最大4周低谷结束至今周数", "weeks since its largest 4-week dip ended", "int"),
    "drop4_pre": ("最大4周低谷比此前低(对数)", "largest 4-week dip below the weeks before it (log)", "num"),
    "drop4_rec": ("最大4周低谷后回升(对数)", "recovery after the largest 4-week dip (log)", "num"),
    "drop13_age": ("最大13周低谷结束至今周数", "weeks since its largest 13-week dip ended", "int"),
    "drop13_pre": ("最大13周低谷比此前低(对数)", "largest 13-week dip below the weeks before it (log)", "num"),
    "drop13_rec": ("最大13周低谷后回升(对数)", "recovery after the largest 13-week dip (log)", "num"),
    "drop26_age": ("最大26周低谷结束至今周数", "weeks since its largest 26-week dip ended", "int"),
    "drop26_pre": ("最大26周低谷比此前低(对数)", "largest 26-week dip below the weeks before it (log)", "num"),
    "drop26_rec": ("最大26周低谷后回升(对数)", "recovery after the largest 26-week dip (log)", "num"),
    "cp_age": ("台阶式下降至今周数", "weeks since the step drop", "int"),
    "cpu_t": ("用电台阶式回升强度", "strength of a step rise (change point t)", "num"),
    "cpu_age": ("台阶式回升至今周数", "weeks since the step rise", "int"),
    "anom_share": ("异常低用电周占比", "share of anomalously low weeks", "share"),
    "anom_share13": ("13周内异常低用电周最高占比", "highest share of anomalously low weeks in 13 weeks", "share"),
    "lowday_share": ("有异常低用电日的周占比", "share of weeks with an abnormally low day", "share"),
    "lowday_share13": ("13周内有异常低日的周最高占比", "highest share of weeks with a low day in 13 weeks", "share"),
    "lowday_recent13": ("近13周有异常低日的周占比", "share of the last 13 weeks with a low day", "share"),
    "cap_use_max": ("最大日电量/合同容量", "peak day vs contract capacity", "share"),
    "cap_use_mean": ("日均电量/合同容量", "mean day vs contract capacity", "share"),
    "ev_count": ("电能表事件数", "meter events", "int"),
    "ev_recent": ("近期电能表事件数", "recent meter events", "int"),
    "ev_low": ("低用电周内的电能表事件数", "meter events in low-use weeks", "int"),
    "ev_low_share": ("事件落在低用电周的比例", "share of events in low-use weeks", "share"),
    "ev_types": ("事件类型数", "kinds of meter events", "int"),
    "loss_corr": ("用电与台区线损率相关系数", "correlation of use with the area's loss rate", "num"),
    "rule_hits": ("稽查规则命中数", "audit rule hits", "int"),
    "rule_hits_high": ("高等级规则命中数", "high-severity rule hits", "int"),
    "rule_families": ("命中规则类别数", "rule families hit", "int"),
    "iv_night_share": ("夜间用电占比", "night share of use", "share"),
    "iv_peak_ratio": ("峰值/均值", "peak vs mean interval", "num"),
    "iv_zero_share": ("零电量时段占比", "share of zero intervals", "share"),
    "iv_night_shift": ("近期夜间占比变化", "recent change in night share", "num"),
    "cat_code": ("用电类别", "customer category", "int"),
    "status_code": ("用户状态(0正常/1暂停/2销户)", "account status (0 active, 1 suspended, 2 closed)", "int"),
}


def format_value(name: str, value: float) -> str:
    """A feature value as a person reads it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    kind = FEATURE_TEXT.get(name, (name, name, "num"))[2]
    if kind in ("ratio", "share"):
        return f"{value * 100:.0f}%"
    if kind == "int":
        return f"{value:.0f}"
    return f"{value:.2f}"


def reason_value(value: float) -> float:
    """A feature value as a stored reason keeps it: nine significant digits.

    DuckDB sums floats in parallel, so two runs on the same data can differ in the last bits; nine digits are far
    more than any reading needs and keep stored explanations identical between runs."""
    return float(f"{value:.9g}")


def top_reasons(names: list[str], contrib: list[float], values: list[float], k: int) -> list[dict[str, Any]]:
    """The k features that pushed the score up most (positive contributions only), largest first."""
    order = sorted(range(len(names)), key=lambda i: -contrib[i])
    out = []
    for i in order[:k]:
        if contrib[i] <= 0:
            break
        out.append({"feature": names[i], "value": reason_value(values[i]), "contribution": round(float(contrib[i]), 4)})
    return out


# features read together: a reason on one quotes the other's number too (a dip's depth beside its significance)
PARTNER: dict[str, str] = {
    **{f"scan_t{n}": f"scan_d{n}" for n in (4, 13, 26, 52)},
    **{f"scan_d{n}": f"scan_t{n}" for n in (4, 13, 26, 52)},
    **{f"sus_t{n}": f"sus_d{n}" for n in (4, 8, 13)},
    **{f"sus_d{n}": f"sus_t{n}" for n in (4, 8, 13)},
    "cp_t": "cp_ratio",
    "cp_ratio": "cp_t",
    **{f"drop{n}_pre": f"drop{n}_age" for n in (4, 13, 26)},
    **{f"drop{n}_age": f"drop{n}_pre" for n in (4, 13, 26)},
    **{f"drop{n}_rec": f"drop{n}_age" for n in (4, 13, 26)},
    "cp_age": "cp_t",
    "cpu_t": "cpu_age",
    "cpu_age": "cpu_t",
}
DROP_FEATURES = frozenset(f"drop{n}_{part}" for n in (4, 13, 26) for part in ("age", "pre", "rec"))
"""The largest-dip features of the whole look-back (issue 17), read as one sentence each."""
# shares of weeks: (zh sentence, en sentence) with {pct}
SHARES: dict[str, tuple[str, str]] = {
    "anom_share": (
        "{pct}% 的周用电异常偏低（扣除同类用户共同变化后）",
        "{pct}% of its weeks were anomalously low, beyond what its peers did",
    ),
    "anom_share13": (
        "某 13 周内 {pct}% 的周用电异常偏低",
        "in one 13-week stretch {pct}% of the weeks were anomalously low",
    ),
    "lowday_share": (
        "{pct}% 的周里有某天用电异常低（间歇性少计）",
        "{pct}% of its weeks had an abnormally low day (intermittent under-reading)",
    ),
    "lowday_share13": (
        "某 13 周内 {pct}% 的周里有异常低的日子（间歇性少计）",
        "in one 13-week stretch {pct}% of the weeks had an abnormally low day (intermittent)",
    ),
    "lowday_recent13": (
        "近 13 周中 {pct}% 的周里有异常低的日子",
        "{pct}% of the last 13 weeks had an abnormally low day",
    ),
}
# ratios against the customer's own median: (zh subject, en subject, peer-adjusted)
VS_MEDIAN: dict[str, tuple[str, str, bool]] = {
    "recent4_raw": ("近 4 周用电", "the last 4 weeks", False),
    "dip4_raw": ("最低的 4 周用电", "its lowest 4 weeks", False),
    "recent4": ("近 4 周用电", "the last 4 weeks", True),
    "recent13": ("近 13 周用电", "the last 13 weeks", True),
    "dip4": ("最低的 4 周用电", "its lowest 4 weeks", True),
    "dip13": ("最低的 13 周用电", "its lowest 13 weeks", True),
    "base_recent4": ("近 4 周基荷（周最小日）", "the base load (lowest day) of the last 4 weeks", False),
    "base_dip4": ("最低 4 周的基荷", "the base load of its lowest 4 weeks", False),
    "base_dip13": ("最低 13 周的基荷", "the base load of its lowest 13 weeks", False),
}
COUNTS: dict[str, tuple[str, str]] = {
    "ev_count": ("有 {n} 次电能表事件", "{n} meter events"),
    "ev_recent": ("近期有 {n} 次电能表事件", "{n} recent meter events"),
    "ev_low": ("用电偏低的周内有 {n} 次电能表事件", "{n} meter events in its low-use weeks"),
    "rule_hits": ("命中 {n} 条稽查规则", "{n} audit rule hits"),
    "rule_hits_high": ("命中 {n} 条高等级稽查规则", "{n} high-severity audit rule hits"),
    "gap_weeks": ("{n} 周没有数据", "{n} weeks without data"),
}


def _finite(v: Any) -> TypeGuard[float]:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _drop_pct(log_depth: float) -> int:
    """A log drop as the percent a person reads (0.92 → 60 %)."""
    return round((1 - math.exp(-max(log_depth, 0.0))) * 100)


def reason_args(feature: str, value: float, row: dict[str, Any]) -> dict[str, Any]:
    """The numbers a sentence about ``feature`` quotes, from the customer's feature ``row`` (language-neutral)."""
    if not _finite(value):
        return {}
    weeks = "".join(ch for ch in feature.rsplit("_", 1)[-1] if ch.isdigit())
    partner = row.get(PARTNER.get(feature, ""), None)
    if feature.startswith(("scan_t", "scan_d", "sus_t", "sus_d")) and not feature.startswith("scan_c"):
        t, d = (value, partner) if "_t" in feature else (partner, value)
        args: dict[str, Any] = {"weeks": int(weeks)}
        if _finite(d):
            args["pct"] = _drop_pct(float(d))
        if _finite(t):
            args["t"] = round(float(t), 1)
        return args
    if feature.startswith("scan_c"):
        return {"weeks": int(weeks), "t": round(float(value), 1)}
    if feature in ("cp_t", "cp_ratio"):
        t, d = (value, partner) if feature == "cp_t" else (partner, value)
        args = {}
        if _finite(d):  # cp_ratio is log(after / before): negative when use fell
            args["pct"] = _drop_pct(-float(d))
        if _finite(t):
            args["t"] = round(float(t), 1)
        return args
    if feature in DROP_FEATURES:
        n = int(feature[4:].split("_")[0])
        age = value if feature.endswith("_age") else row.get(f"drop{n}_age")
        depth = row.get(f"drop{n}_pre") if not feature.endswith("_pre") else value
        rec = row.get(f"drop{n}_rec") if not feature.endswith("_rec") else value
        args = {"weeks": n}
        if _finite(age):
            args["ago"] = int(round(float(age)))
        if _finite(depth):
            args["pct"] = _drop_pct(float(depth))
        if _finite(rec):
            args["rec"] = float(rec) > 0.1
        return args
    if feature in ("cp_age", "cpu_t", "cpu_age"):
        t_val = row.get("cp_t") if feature == "cp_age" else (value if feature == "cpu_t" else row.get("cpu_t"))
        age = value if feature.endswith("_age") else row.get("cpu_age")
        args = {}
        if _finite(age):
            args["ago"] = int(round(float(age)))
        if _finite(t_val):
            args["t"] = round(float(t_val), 1)
        return args
    if feature in SHARES:
        return {"pct": round(float(value) * 100)}
    if feature in VS_MEDIAN or feature in ("drop4_prior", "dip4_base"):
        return {"pct": round(abs(1 - float(value)) * 100), "lower": float(value) < 1}
    if feature in COUNTS:
        return {"n": round(float(value))}
    return {}


def sentence(feature: str, value: float, args: dict[str, Any], lang: str) -> str:
    """One reason as a person would say it, in ``lang`` (zh or en); the feature's label and value otherwise."""
    zh = lang == "zh"
    t = f"（显著性 t={args['t']}）" if zh and "t" in args else (f" (t = {args['t']})" if "t" in args else "")
    if feature.startswith(("scan_t", "scan_d")) and "pct" in args:
        w, pct = args["weeks"], args["pct"]
        return (
            f"{w} 周内用电比平时低 {pct}%，同台区同类用户未下降{t}"
            if zh
            else f"for {w} weeks it used {pct}% less than usual while its area and category peers did not{t}"
        )
    if feature.startswith(("sus_t", "sus_d")) and "pct" in args:
        w, pct = args["weeks"], args["pct"]
        return (
            f"连续 {w} 周每周都比常态低至少 {pct}%（已扣除同类用户的共同变化）{t}"
            if zh
            else f"every one of {w} weeks was at least {pct}% below normal, beyond what its peers did{t}"
        )
    if feature.startswith("scan_c") and args:
        w = args["weeks"]
        return f"{w} 周内每日用电波动明显变大{t}" if zh else f"its day-to-day swings rose sharply for {w} weeks{t}"
    if feature in ("cp_t", "cp_ratio") and "pct" in args:
        pct = args["pct"]
        if zh:
            return f"用电台阶式下降：此后比此前低 {pct}%{t}"
        return f"a step drop in use: {pct}% lower after than before{t}"
    if feature in DROP_FEATURES and "ago" in args:
        w, ago = args["weeks"], args["ago"]
        pct = f"{args['pct']}%" if "pct" in args else ""
        if zh:
            head = f"最近 {w} 周是用电最低的一段" if ago == 0 else f"用电最低的 {w} 周（{ago} 周前）"
            back = "，此后用电已回升（可能已停止窃电，仍在追补期内）" if args.get("rec") else ""
            return f"{head}比此前低 {pct}{back}"
        head = (
            f"its lowest {w}-week stretch is the latest one,"
            if ago == 0
            else f"its lowest {w}-week stretch, {ago} weeks ago, was"
        )
        back = ""
        if args.get("rec"):
            back = ", and use has recovered since (a theft that may have stopped, still within back-billing)"
        return f"{head} {pct} below the weeks before it{back}"
    if feature == "cp_age" and "ago" in args:
        if args["ago"] == 0:
            return f"用电在最近一周台阶式下降{t}" if zh else f"its use stepped down in the last week{t}"
        ago = args["ago"]
        return f"用电台阶式下降发生在 {ago} 周前{t}" if zh else f"its use stepped down {ago} weeks ago{t}"
    if feature in ("cpu_t", "cpu_age") and "ago" in args:
        return (
            f"用电在 {args['ago']} 周前台阶式回升（此前一段时间偏低）{t}"
            if zh
            else f"its use stepped back up {args['ago']} weeks ago after a low stretch{t}"
        )
    if feature in SHARES and args:
        return SHARES[feature][0 if zh else 1].format(**args)
    if feature in VS_MEDIAN and args:
        s_zh, s_en, peers = VS_MEDIAN[feature]
        pct, lower = args["pct"], args["lower"]
        if zh:
            tail = "，同台区同类用户未同样变化" if peers else ""
            return f"{s_zh}比自身中位{'低' if lower else '高'} {pct}%{tail}"
        tail = ", beyond what its area and category peers did" if peers else ""
        return f"{s_en} used {pct}% {'less' if lower else 'more'} than its own median{tail}"
    if feature == "drop4_prior" and args:
        pct, lower = args["pct"], args["lower"]
        return (
            f"某 4 周用电比此前 13 周{'低' if lower else '高'} {pct}%"
            if zh
            else f"one 4-week stretch used {pct}% {'less' if lower else 'more'} than the 13 weeks before it"
        )
    if feature in COUNTS and args:
        return COUNTS[feature][0 if zh else 1].format(**args)
    label_zh, label_en, _ = FEATURE_TEXT.get(feature, (feature, feature, "num"))
    return f"{label_zh if zh else label_en} {format_value(feature, value)}"


def add_args(reasons: list[dict[str, Any]], row: dict[str, Any]) -> list[dict[str, Any]]:
    """Each reason with its ``args`` (the numbers its sentence quotes), computed from the feature ``row``."""
    for r in reasons:
        r["args"] = reason_args(r["feature"], r["value"], row)
    return reasons


def reason_text(reasons: list[dict[str, Any]], lang: str) -> str:
    """Reasons as one line in ``lang`` (zh or en): a sentence each, from the feature and its ``args``."""
    if not reasons:
        return "无突出风险因素" if lang == "zh" else "no prominent risk factor"
    parts = list(dict.fromkeys(sentence(r["feature"], r["value"], r.get("args", {}), lang) for r in reasons))
    return ("；" if lang == "zh" else "; ").join(parts)
