"""Explanations of the customers below ``explain_top`` from their risk signals, column by column (issue 17).

Scoring explains the ``explain_top`` riskiest customers with TreeSHAP and every other customer with the risk
signals that stand furthest above the population (the unsupervised scorer's percentiles). At 1 M customers a
Python loop per customer (a list of reason dicts, :func:`~gridaudit.risk.explain.add_args`,
:func:`~gridaudit.risk.explain.reason_text` twice and ``json.dumps``) cost ≈ 70 s on one core. Here the same
text and JSON are assembled per reason slot and per signal with numpy object-array concatenation; every number is
still formatted by Python's own ``round``/``format``/``repr`` (mapped over a whole column, so the bytes are those
of the per-row path, :func:`signal_explanations_rows`, which stays as the reference and for rows with a value the
column path does not cover: a signal it does not know, or an infinite value).
"""

from __future__ import annotations

import json
import math
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from gridaudit.risk.explain import COUNTS, FEATURE_TEXT, PARTNER, add_args, reason_text, reason_value

SIGNALS_ONLY = (
    "风险信号（排名在前 explain_top 名之外，未计算模型贡献）：",
    "risk signals (ranked below the top explain_top; model contributions not computed): ",
)
NO_REASON = ("无突出风险因素", "no prominent risk factor")

# the signals' sentence kinds (gridaudit.risk.explain.reason_args / sentence), by feature
SCAN = {"scan_t4": "scan_d4", "scan_t13": "scan_d13", "scan_t26": "scan_d26", "scan_t52": "scan_d52"}
SCAN_D = {d: t for t, d in SCAN.items()}
# the count sentences, as the per-row path words them (gridaudit.risk.explain.COUNTS)
COUNT_TEXT = {k: COUNTS[k] for k in ("ev_low", "rule_hits_high", "ev_count", "ev_recent", "rule_hits")}
PLAIN = ("low_week_share", "zero_share_recent", "loss_corr")  # no args: label and value
KNOWN = frozenset({*SCAN, *SCAN_D, "cp_t", "drop4_prior", "scan_c4", "scan_c13", *COUNT_TEXT, *PLAIN})


def _s(values: Any) -> list[str]:
    """Python's str of each element (ints, floats: the repr json.dumps writes)."""
    return list(map(str, values))


def _round(values: np.ndarray, digits: int) -> list[float]:
    """Python's ``round(x, digits)`` of each element (correctly rounded, unlike numpy's)."""
    return list(map(round, values.tolist(), repeat(digits)))


def _drop_pct(log_depth: np.ndarray) -> np.ndarray:
    """:func:`gridaudit.risk.explain._drop_pct` of each element (libm's exp, as ``math.exp``)."""
    e = np.fromiter(map(math.exp, (-np.maximum(log_depth, 0.0)).tolist()), dtype="float64", count=len(log_depth))
    return np.rint((1 - e) * 100).astype("int64")


def _cat(*parts: Any) -> np.ndarray:
    """Element-wise concatenation of string columns and constants (an object array; numpy's object ``+`` is
    ``str.__add__`` per element)."""
    out: Any = ""
    for p in parts:
        out = out + (p if isinstance(p, str) else np.asarray(p, dtype=object))
    return np.asarray(out, dtype=object)


def _join(cells: np.ndarray, sep: str) -> np.ndarray:
    """Each row's non-None cells joined by ``sep`` ("" when it has none)."""
    out = np.full(cells.shape[0], "", dtype=object)
    started = np.zeros(cells.shape[0], dtype=bool)
    for s in range(cells.shape[1]):
        has = np.asarray([c is not None for c in cells[:, s].tolist()])
        mid = has & started
        out[mid] = out[mid] + sep + cells[mid, s]
        first = has & ~started
        out[first] = cells[first, s]
        started |= has
    return out


def _label(feature: str, values: np.ndarray, lang: int) -> np.ndarray:
    """``sentence``'s fallback: the feature's label and its value as a person reads it."""
    label_zh, label_en, kind = FEATURE_TEXT.get(feature, (feature, feature, "num"))
    label = label_zh if lang == 0 else label_en
    if kind in ("ratio", "share"):
        shown = list(map(format, (values * 100).tolist(), repeat(".0f")))
        return _cat(label + " ", shown, "%")
    return _cat(label + " ", list(map(format, values.tolist(), repeat(".0f" if kind == "int" else ".2f"))))


def _t_text(t: list[str], has_t: np.ndarray, lang: int) -> list[str]:
    """The ``(t = …)`` tail of a sentence, empty where there is no t."""
    head, tail = ("（显著性 t=", "）") if lang == 0 else (" (t = ", ")")
    return [f"{head}{x}{tail}" if h else "" for x, h in zip(t, has_t.tolist(), strict=True)]


def _pieces(feature: str, value: np.ndarray, partner: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For reasons on ``feature`` with (rounded) ``value`` and the raw ``partner`` column: the JSON of their
    ``args`` and their zh and en sentences (object arrays)."""
    n = len(value)
    if feature in SCAN or feature in SCAN_D or feature == "cp_t":
        assert partner is not None
        if feature == "cp_t":
            t_val, d_val, weeks = value, -partner, ""
        elif feature in SCAN:
            t_val, d_val, weeks = value, partner, "".join(ch for ch in feature.split("_")[-1] if ch.isdigit())
        else:
            t_val, d_val, weeks = partner, value, "".join(ch for ch in feature.split("_")[-1] if ch.isdigit())
        has_d, has_t = ~np.isnan(d_val), ~np.isnan(t_val)
        pct = np.zeros(n, dtype="int64")
        pct[has_d] = _drop_pct(d_val[has_d])
        t_s = _s(_round(np.where(has_t, t_val, 0.0), 1))
        pct_s = _s(pct.tolist())
        kv = np.full((n, 3), None, dtype=object)
        if weeks:
            kv[:, 0] = f'"weeks": {weeks}'
        kv[has_d, 1] = _cat('"pct": ', np.asarray(pct_s, dtype=object)[has_d])
        kv[has_t, 2] = _cat('"t": ', np.asarray(t_s, dtype=object)[has_t])
        js = _cat("{", _join(kv, ", "), "}")
        if feature == "cp_t":
            zh = _cat("用电台阶式下降：此后比此前低 ", pct_s, "%", _t_text(t_s, has_t, 0))
            en = _cat("a step drop in use: ", pct_s, "% lower after than before", _t_text(t_s, has_t, 1))
        else:
            zh = _cat(weeks + " 周内用电比平时低 ", pct_s, "%，同台区同类用户未下降", _t_text(t_s, has_t, 0))
            en = _cat(
                f"for {weeks} weeks it used ",
                pct_s,
                "% less than usual while its area and category peers did not",
                _t_text(t_s, has_t, 1),
            )
        if not has_d.all():  # no depth: the label and value instead
            zh[~has_d] = _label(feature, value[~has_d], 0)
            en[~has_d] = _label(feature, value[~has_d], 1)
        return np.asarray(js, dtype=object), zh, en
    if feature in ("scan_c4", "scan_c13"):
        weeks = feature[6:]
        t_s = _s(_round(value, 1))
        js = _cat(f'{{"weeks": {weeks}, "t": ', t_s, "}")
        zh = _cat(f"{weeks} 周内每日用电波动明显变大（显著性 t=", t_s, "）")
        en = _cat(f"its day-to-day swings rose sharply for {weeks} weeks (t = ", t_s, ")")
        return js, zh, en
    if feature == "drop4_prior":
        pct_s = _s(np.rint(np.abs(1 - value) * 100).astype("int64").tolist())
        lower = value < 1
        js = _cat('{"pct": ', pct_s, ', "lower": ', np.where(lower, "true", "false").tolist(), "}")
        zh = _cat("某 4 周用电比此前 13 周", np.where(lower, "低", "高").tolist(), " ", pct_s, "%")
        en = _cat(
            "one 4-week stretch used ",
            pct_s,
            "% ",
            np.where(lower, "less", "more").tolist(),
            " than the 13 weeks before it",
        )
        return js, zh, en
    if feature in COUNT_TEXT:
        n_s = _s(np.rint(value).astype("int64").tolist())
        z, e = COUNT_TEXT[feature]
        z0, z1 = z.split("{n}")
        e0, e1 = e.split("{n}")
        return _cat('{"n": ', n_s, "}"), _cat(z0, n_s, z1), _cat(e0, n_s, e1)
    # PLAIN: no args
    return np.full(n, "{}", dtype=object), _label(feature, value, 0), _label(feature, value, 1)


def signal_explanations(
    feats: pd.DataFrame, rest: np.ndarray, contrib: np.ndarray, used: list[str], k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zh and en explanations and the JSON reasons of the rows ``rest`` of ``feats`` from their signals'
    contributions ``contrib`` (rows of ``rest`` × ``used``): the ``k`` largest positive ones, each a reason
    marked ``"source": "signals"``. Byte for byte what :func:`signal_explanations_rows` gives."""
    m = len(rest)
    if m == 0 or not used:
        empty = np.empty(0, dtype=object)
        return empty, empty.copy(), empty.copy()
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    picked_c = np.take_along_axis(contrib, order, axis=1)
    values = feats[used].to_numpy(dtype="float64")[rest]
    picked_v = np.take_along_axis(values, order, axis=1)
    valid = picked_c > 0
    # rows the columns do not cover go through the per-row path
    known = np.asarray([u in KNOWN for u in used])
    slow = (valid & (~known[order] | ~np.isfinite(picked_v))).any(axis=1)
    slots = order.shape[1]
    js = np.full((m, slots), None, dtype=object)
    zh = np.full((m, slots), None, dtype=object)
    en = np.full((m, slots), None, dtype=object)
    for s in range(slots):
        ok = valid[:, s] & ~slow
        if not ok.any():
            continue
        rows = np.flatnonzero(ok)
        v_s = np.asarray(list(map(float, map(format, picked_v[rows, s].tolist(), repeat(".9g")))), dtype="float64")
        c_s = _s(_round(picked_c[rows, s], 4))
        v_str = _s(v_s.tolist())
        f_idx = order[rows, s]
        args = np.empty(len(rows), dtype=object)
        for j in np.unique(f_idx).tolist():
            sel = f_idx == j
            name = used[j]
            partner = PARTNER.get(name)
            p_col = None
            if partner is not None:
                p_col = (
                    feats[partner].to_numpy(dtype="float64")[rest[rows[sel]]]
                    if partner in feats.columns
                    else np.full(int(sel.sum()), np.nan)
                )
            a, z, e = _pieces(name, v_s[sel], p_col)
            args[sel], zh[rows[sel], s], en[rows[sel], s] = a, z, e
        names = np.asarray(used, dtype=object)[f_idx]
        js[rows, s] = _cat(
            '{"feature": "', names.tolist(), '", "value": ', v_str, ', "contribution": ', c_s,
            ', "source": "signals", "args": ', args.tolist(), "}",
        )  # fmt: skip
        for prev in range(s):  # a sentence said already in this row is not said again
            same = zh[rows, s] == zh[rows, prev]
            zh[rows[same], s] = None
            same = en[rows, s] == en[rows, prev]
            en[rows[same], s] = None
    out = []
    none = ~valid.any(axis=1)
    for cells, sep, lang in ((zh, "；", 0), (en, "; ", 1)):
        text = _join(cells, sep)
        text[none] = NO_REASON[lang]
        out.append(_cat(SIGNALS_ONLY[lang], text))
    reasons_s = _cat("[", _join(js, ", "), "]")
    zh_out, en_out = out
    if slow.any():
        rz, re_, rj = signal_explanations_rows(feats, rest[slow], contrib[slow], used, k)
        zh_out[slow], en_out[slow], reasons_s[slow] = rz, re_, rj
    return zh_out, en_out, reasons_s


def signal_reasons_rows(
    feats: pd.DataFrame, rest: np.ndarray, contrib: np.ndarray, used: list[str], k: int
) -> list[list[dict[str, Any]]]:
    """The reason dicts (with their ``args``) of the rows ``rest`` from their signals' contributions, one row at a
    time: the reference of :func:`signal_explanations`."""
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    picked_c = np.take_along_axis(contrib, order, axis=1).tolist()
    picked_v = np.take_along_axis(feats[used].to_numpy(dtype="float64")[rest], order, axis=1).tolist()
    quoted = sorted({c for c in (*PARTNER, *PARTNER.values()) if c in feats.columns})
    partner_values = {c: feats[c].to_numpy(dtype="float64") for c in quoted}
    out = []
    for row, picks, cs, vs in zip(rest.tolist(), order.tolist(), picked_c, picked_v, strict=True):
        r = [
            {"feature": used[j], "value": reason_value(v), "contribution": round(cj, 4), "source": "signals"}
            for j, cj, v in zip(picks, cs, vs, strict=True)
            if cj > 0
        ]
        if r:
            add_args(r, {c: float(v[row]) for c, v in partner_values.items()})
        out.append(r)
    return out


def signal_explanations_rows(
    feats: pd.DataFrame, rest: np.ndarray, contrib: np.ndarray, used: list[str], k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`signal_explanations` one row at a time (the per-customer path scoring used before issue 17's 1 M
    work): the reference for the column path, and its fallback."""
    reasons = signal_reasons_rows(feats, rest, contrib, used, k)
    zh = np.asarray([SIGNALS_ONLY[0] + reason_text(r, "zh") for r in reasons], dtype=object)
    en = np.asarray([SIGNALS_ONLY[1] + reason_text(r, "en") for r in reasons], dtype=object)
    js = np.asarray([json.dumps(r, ensure_ascii=False, default=float) for r in reasons], dtype=object)
    return zh, en, js
