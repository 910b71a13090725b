"""How well a model judges graded sections: the figures of model cards, `train` and `evaluate`.

The label figures are for ``insufficient`` (the class a reviewer must see). Criterion figures
treat "score 2" (the criterion is met) as the positive class, and ``criteria_macro_f1`` is the
mean of the eight criteria's F1 on that class.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .dataset import GradedSection
from .rubric import CRITERIA


def binary(y: Sequence[int], p: Sequence[float], threshold: float) -> dict:
    from sklearn.metrics import brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    out = {"n": int(len(y)), "insufficient": int(y.sum()),
           "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
           "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
           "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
           "accuracy": round(float((pred == y).mean()), 4) if len(y) else None,
           "confusion_matrix": [[int(((y == a) & (pred == b)).sum()) for b in (0, 1)] for a in (0, 1)]}
    if len(np.unique(y)) == 2:
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        out["brier"] = round(float(brier_score_loss(y, np.clip(p, 0, 1))), 4)
    return out


def criteria(true: np.ndarray, pred: np.ndarray) -> dict:
    """Per criterion: accuracy over 0/1/2, and F1 of "met" (score 2); plus the macro mean."""
    from sklearn.metrics import f1_score

    true, pred = np.asarray(true), np.asarray(pred)
    out: dict = {}
    for j, c in enumerate(CRITERIA):
        out[c] = {"accuracy": round(float((true[:, j] == pred[:, j]).mean()), 4),
                  "met_f1": round(float(f1_score(true[:, j] == 2, pred[:, j] == 2, zero_division=0)), 4)}
    out["macro_f1"] = round(float(np.mean([out[c]["met_f1"] for c in CRITERIA])), 4)
    return out


def breakdown(sections: Sequence[GradedSection], p: np.ndarray, threshold: float,
              key: Callable[[GradedSection], Sequence[str]]) -> dict:
    """Accuracy and recall of ``insufficient`` per group (area, style, writer ...)."""
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(sections):
        for k in key(s):
            groups.setdefault(k, []).append(i)
    out = {}
    for k, idx in sorted(groups.items()):
        y = np.array([sections[i].y for i in idx])
        pred = p[idx] >= threshold
        out[k] = {"n": len(idx), "insufficient": int(y.sum()), "accuracy": round(float((pred == y).mean()), 4),
                  "recall": round(float(pred[y == 1].mean()), 4) if y.sum() else None}
    return out


def report(sections: Sequence[GradedSection], p: np.ndarray, criteria_pred: np.ndarray, threshold: float) -> dict:
    """Every figure of one evaluation: label, criteria, per area, per style, per writer."""
    y = [s.y for s in sections]
    true = np.array([[s.criteria[c] for c in CRITERIA] for s in sections])
    return {"label": binary(y, p, threshold),
            "criteria": criteria(true, criteria_pred),
            "per_area": breakdown(sections, p, threshold, lambda s: [s.area]),
            "per_style": breakdown(sections, p, threshold, lambda s: [s.style] if s.style else list(s.tags) or ["untagged"]),
            "per_writer": breakdown(sections, p, threshold, lambda s: [s.writer or "unknown"])}


def agreement(first: dict[str, dict[str, int]], second: dict[str, dict[str, int]]) -> dict:
    """Cohen's kappa and raw agreement per criterion (and of the rule's label) between two gradings."""
    from sklearn.metrics import cohen_kappa_score

    from .rubric import label_from_scores

    ids = sorted(set(first) & set(second))
    out: dict = {"sections": len(ids)}
    if not ids:
        return out
    pairs = {c: ([first[i][c] for i in ids], [second[i][c] for i in ids]) for c in CRITERIA}
    pairs["label"] = ([label_from_scores(first[i]) for i in ids], [label_from_scores(second[i]) for i in ids])
    for key, (a, b) in pairs.items():
        same = sum(x == y for x, y in zip(a, b)) / len(ids)
        kappa = 1.0 if same == 1.0 else float(cohen_kappa_score(a, b))
        out[key] = {"kappa": round(kappa, 3), "agreement": round(same, 3)}
    return out
