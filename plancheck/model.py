"""Fitting the section model: scikit-learn estimators whose arrays become a SectionModel.

Nothing here predicts: :func:`fit` returns a :class:`plancheck.lexical.SectionModel`, and every
prediction (out-of-writer validation, the test split, the blind sets, scoring) goes through it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from .lexical import ANALYZERS, MODES, SectionModel, logit
from .rubric import CRITERIA


@dataclass(frozen=True)
class Params:
    """What a model is fitted with (recorded in its card).

    Args:
        kinds: term bags (``word``: unigrams and bigrams; ``char``: 2-5-grams inside words).
        mode: ``direct``, ``criteria`` or ``blend`` (see lexical.py).
        C: inverse regularisation of the label model; criterion_C: of the criterion models.
        min_df: a term must occur in this many training sections.
        max_terms: at most this many terms per bag (the most frequent).
    """

    kinds: tuple[str, ...] = ("word", "char")
    mode: str = "blend"
    C: float = 4.0
    criterion_C: float = 4.0
    min_df: int = 2
    max_terms: int = 40_000

    def to_dict(self) -> dict:
        return asdict(self) | {"kinds": list(self.kinds)}

    @classmethod
    def from_dict(cls, data: dict) -> "Params":
        data = dict(data)
        data["kinds"] = tuple(data.get("kinds", cls.kinds))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def fit(texts: Sequence[str], y: np.ndarray, criteria: np.ndarray, params: Params = Params(),
        calibration: tuple[np.ndarray, np.ndarray] | None = None) -> SectionModel:
    """Fit on section texts, labels (1 = insufficient) and criterion scores (n x 8).

    ``calibration`` is ``(raw_scores, y)`` from out-of-writer predictions, for the Platt
    calibrator; without it the calibrator is the identity (for validation folds, whose raw
    scores are what a calibrator is later fitted on).
    """
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if params.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {params.mode!r}")
    y = np.asarray(y, dtype=int)
    criteria = np.asarray(criteria, dtype=int)
    vectorizers = [TfidfVectorizer(analyzer=ANALYZERS[k], min_df=params.min_df, sublinear_tf=True,
                                   max_features=params.max_terms, dtype=np.float64) for k in params.kinds]
    X = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    direct = LogisticRegression(C=params.C, max_iter=5000, class_weight="balanced").fit(X, y)
    n_terms = X.shape[1]
    crit_coef = np.zeros((len(CRITERIA), 3, n_terms))
    crit_intercept = np.full((len(CRITERIA), 3), -20.0)  # a score never seen in training stays unlikely
    for j in range(len(CRITERIA)):
        target = criteria[:, j]
        classes = np.unique(target)
        if len(classes) == 1:
            crit_intercept[j, classes[0]] = 20.0
            continue
        est = LogisticRegression(C=params.criterion_C, max_iter=5000, class_weight="balanced").fit(X, target)
        if len(classes) == 2:  # binary: one row of logits for the second class
            crit_coef[j, classes[1]] = est.coef_[0]
            crit_intercept[j, classes[1]] = est.intercept_[0]
            crit_intercept[j, classes[0]] = 0.0
        else:
            for k, cls in enumerate(est.classes_):
                crit_coef[j, cls] = est.coef_[k]
                crit_intercept[j, cls] = est.intercept_[k]
    model = SectionModel(params.kinds, [np.array(v.get_feature_names_out(), dtype=str) for v in vectorizers],
                         [v.idf_ for v in vectorizers], direct.coef_[0], direct.intercept_[0], crit_coef,
                         crit_intercept, params.mode, (1.0, 0.0))
    if calibration is not None:
        raw, y_cal = calibration
        model.calibrator = platt(raw, y_cal)
    return model


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling of raw scores' logits: ``(a, b)`` with P = sigmoid(a * logit(raw) + b)."""
    from sklearn.linear_model import LogisticRegression

    cal = LogisticRegression(C=100.0).fit(logit(raw)[:, None], np.asarray(y, dtype=int))
    return float(cal.coef_[0, 0]), float(cal.intercept_[0])


@dataclass
class Threshold:
    value: float
    rule: str
    precision: float
    recall: float
    f1: float = field(default=0.0)

    def to_dict(self) -> dict:
        return {"value": round(self.value, 4), "rule": self.rule, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def choose_threshold(y: np.ndarray, p: np.ndarray) -> Threshold:
    """The threshold with the best F1 of ``insufficient`` on out-of-writer predictions.

    Ties go to the threshold nearest 0.5, so that a flag means "more likely than not" wherever
    the data allow it.
    """
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    best: Threshold | None = None
    for t in np.unique(np.round(p, 3)):
        pred = p >= t
        tp = int((pred & (y == 1)).sum())
        precision = tp / max(int(pred.sum()), 1)
        recall = tp / max(int((y == 1).sum()), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        if (best is None or f1 > best.f1 + 1e-9
                or (abs(f1 - best.f1) <= 1e-9 and abs(t - 0.5) < abs(best.value - 0.5))):
            best = Threshold(float(t), "highest F1 of insufficient on out-of-writer predictions", precision, recall, f1)
    assert best is not None
    return best
