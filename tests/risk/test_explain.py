"""Risk explanations read as sentences with the numbers a person understands, in zh and en."""

from __future__ import annotations

import math

from gridaudit.risk.explain import add_args, reason_text


def _reasons(*pairs):
    return [{"feature": f, "value": v, "contribution": 0.1} for f, v in pairs]


def test_a_dip_is_a_sentence_with_percent_weeks_and_peers():
    depth = -math.log(0.4)  # use at 40 % of usual: a 60 % drop
    row = {"scan_t26": 19.24, "scan_d26": depth, "cp_t": 8.0, "cp_ratio": math.log(0.5)}
    reasons = add_args(_reasons(("scan_t26", 19.24), ("scan_d26", depth), ("recent4_raw", 0.4)), row)
    assert reasons[0]["args"] == {"weeks": 26, "pct": 60, "t": 19.2}
    en = reason_text(reasons, "en")
    assert en == (
        "for 26 weeks it used 60% less than usual while its area and category peers did not (t = 19.2); "
        "the last 4 weeks used 60% less than its own median"
    )  # the depth and the significance of one dip make one sentence
    zh = reason_text(reasons, "zh")
    assert zh == "26 周内用电比平时低 60%，同台区同类用户未下降（显著性 t=19.2）；近 4 周用电比自身中位低 60%"
    step = add_args(_reasons(("cp_t", 8.0)), row)
    assert reason_text(step, "en") == "a step drop in use: 50% lower after than before (t = 8.0)"
    peers = reason_text(add_args(_reasons(("recent4", 0.4)), row), "zh")
    assert peers == "近 4 周用电比自身中位低 60%，同台区同类用户未同样变化"


def test_other_features_keep_label_and_value():
    reasons = add_args(_reasons(("zero_share", 0.25), ("ev_low", 3.0)), {})
    assert reason_text(reasons, "en") == "share of zero days 25%; 3 meter events in its low-use weeks"


def test_every_feature_reads_as_a_sentence_with_or_without_its_partners():
    """No feature's reason may fail to render, whatever numbers its row carries (drop4_prior once fell into
    the whole-history dip branch and raised)."""
    from gridaudit.risk.features import FEATURES

    full = {f: 0.5 for f in FEATURES}
    for f in FEATURES:
        for row in ({}, full):
            for lang in ("zh", "en"):
                text = reason_text(add_args(_reasons((f, 0.5)), row), lang)
                assert text and "{" not in text
    prior = reason_text(add_args(_reasons(("drop4_prior", 0.6)), {}), "en")
    assert prior == "one 4-week stretch used 40% less than the 13 weeks before it"
