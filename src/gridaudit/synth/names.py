"""Plausible Chinese names for staff, customers, places and equipment (vectorised, seeded)."""

from __future__ import annotations

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国春梅海燕波斌宇浩凯鹏辉晨欣怡佳")
PLACES = list("东西南北新和兴安康宁丰泰福顺清河山石桥湖林园家庄")
SHOPS = ["超市", "饭店", "理发店", "五金店", "药店", "茶馆", "便利店", "服装店", "快餐店", "烟酒店"]
WORKS = ["机械厂", "纺织厂", "塑料厂", "食品厂", "建材厂", "印刷厂", "铸造厂", "家具厂"]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` two- or three-character personal names."""
    s = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, len(GIVEN), n)
    g2 = rng.integers(0, len(GIVEN), n)
    two = rng.random(n) < 0.35
    return [SURNAMES[a] + GIVEN[b] + ("" if t else GIVEN[c]) for a, b, c, t in zip(s, g1, g2, two, strict=True)]


def place_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` two-character place names (villages, streets)."""
    a = rng.integers(0, len(PLACES), n)
    b = rng.integers(0, len(PLACES), n)
    return [PLACES[i] + PLACES[j] for i, j in zip(a, b, strict=True)]


def business_names(rng: np.random.Generator, places: list[str], industrial: np.ndarray) -> list[str]:
    """A shop or works name per place; ``industrial`` chooses works over shops."""
    k = rng.integers(0, 10, len(places))
    return [p + (WORKS[i % len(WORKS)] if ind else SHOPS[i]) for p, i, ind in zip(places, k, industrial, strict=True)]
