"""``risk evaluate``: join a scores file with a labels file and compute the metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gridaudit.i18n import both
from gridaudit.risk.metrics import evaluate


class EvaluateError(Exception):
    """Unusable scores or labels file (the message names the file, row and column)."""


def read_labels(path: str | Path) -> pd.DataFrame:
    """Labels file (CSV or Parquet): customer_id, label (0/1)[, yuan]."""
    path = Path(path)
    if not path.is_file():
        raise EvaluateError(both(f"找不到标签文件 {path}", f"labels file {path} not found"))
    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"customer_id": str})
    for col in ("customer_id", "label"):
        if col not in df.columns:
            raise EvaluateError(both(f"{path}: 缺少列 {col}", f"{path}: missing column {col}"))
    lab = pd.to_numeric(df["label"], errors="coerce")
    bad = lab.isna() | ~lab.isin([0, 1])
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise EvaluateError(
            both(f"{path}: 第 {row + 2} 行 label 列应为 0 或 1，而不是 {df['label'].iloc[row]!r}",
                 f"{path}: row {row + 2}, column label: must be 0 or 1, not {df['label'].iloc[row]!r}")
        )  # fmt: skip
    df["label"] = lab.astype(int)
    df["customer_id"] = df["customer_id"].astype(str)
    if "yuan" in df.columns:
        df["yuan"] = pd.to_numeric(df["yuan"], errors="coerce")
    return df


def evaluate_files(scores: str | Path, labels: str | Path, ks: tuple[int, ...] = (50, 100, 200)) -> dict[str, Any]:
    """Metrics of the scores in ``scores`` against ``labels`` (customers in both files only)."""
    scores = Path(scores)
    if not scores.is_file():
        raise EvaluateError(both(f"找不到评分文件 {scores}", f"scores file {scores} not found"))
    sc = pd.read_parquet(scores)
    for col in ("customer_id", "score"):
        if col not in sc.columns:
            raise EvaluateError(both(f"{scores}: 缺少列 {col}", f"{scores}: missing column {col}"))
    sc["customer_id"] = sc["customer_id"].astype(str)
    lab = read_labels(labels)
    cols = ["customer_id", "score"] + (["rank"] if "rank" in sc.columns else [])
    df = lab.merge(sc[cols], on="customer_id", how="inner")
    if df.empty:
        raise EvaluateError(both("评分与标签没有共同的用户", "no customer appears in both scores and labels"))
    if "rank" in df.columns:  # the scorer's own order breaks ties in score
        df = df.sort_values("rank")
        s = -df["rank"].to_numpy(dtype="float64")
    else:
        s = df["score"].to_numpy(dtype="float64")
    out = evaluate(df["label"].to_numpy(), s, df["yuan"].to_numpy() if "yuan" in df.columns else None, ks)
    out["unmatched_labels"] = int(len(lab) - len(df))
    return out
