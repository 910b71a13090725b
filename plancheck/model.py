"""The section classifier: criterion scores, a calibrated probability of `insufficient`, reasons.

Two views of a section are learned from the corpus:

* eight criterion models (0/1/2 each) that give the rubric scores behind every explanation and,
  through the label rule, a probability that the section fails it;
* a direct model of the label from the same features.

``mode`` says how they combine (chosen on grouped cross-validation at training time); a Platt
calibrator fitted on out-of-fold scores turns the result into a probability. The flag threshold
is chosen by an explicit rule on the same out-of-fold predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from .rubric import CRITERIA
from .linear import Linear, LinearSectionModel, _logit, rule_probability

MODES = ("direct", "criteria", "blend")


def _linear(C: float) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))


class SectionClassifier(ClassifierMixin, BaseEstimator):
    """Criterion models + direct model + calibrator over plancheck's feature rows.

    Args:
        mode: ``direct``, ``criteria`` or ``blend`` (mean of the two probabilities).
        C: inverse regularisation strength of the logistic regressions.
        criterion_C: the same for the criterion models.
    """

    def __init__(self, mode: str = "blend", C: float = 0.3, criterion_C: float = 0.3):
        self.mode = mode
        self.C = C
        self.criterion_C = criterion_C

    def fit(self, X, y, criteria: np.ndarray | None = None, calibration_scores: np.ndarray | None = None):
        """Fit on features ``X``, labels ``y`` (1 = insufficient) and criterion scores (n x 8).

        ``calibration_scores`` are out-of-fold raw scores for fitting the calibrator; without
        them the in-sample scores are used (only for quick experiments).
        """
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        if criteria is None:
            raise ValueError("criteria scores are required to fit the criterion models")
        criteria = np.asarray(criteria, dtype=int)
        self.classes_ = np.array([0, 1])
        self.direct_ = _linear(self.C).fit(X, y)
        self.criterion_models_ = {}
        for j, name in enumerate(CRITERIA):
            target = criteria[:, j]
            if len(np.unique(target)) < 2:
                self.criterion_models_[name] = int(target[0])
                continue
            self.criterion_models_[name] = _linear(self.criterion_C).fit(X, target)
        raw = calibration_scores if calibration_scores is not None else self.raw_score(X)
        self.calibrator_ = LogisticRegression(C=100.0).fit(_logit(raw)[:, None], y)
        self.n_features_in_ = X.shape[1]
        return self

    def criterion_proba(self, X) -> dict[str, np.ndarray]:
        """For each criterion, an (n x 3) array of P(score = 0, 1, 2)."""
        X = np.asarray(X, dtype=float)
        out = {}
        for name, est in self.criterion_models_.items():
            probs = np.zeros((len(X), 3))
            if isinstance(est, int):
                probs[:, est] = 1.0
            else:
                p = est.predict_proba(X)
                for k, cls in enumerate(est.classes_):
                    probs[:, int(cls)] = p[:, k]
            out[name] = probs
        return out

    def raw_score(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        p_direct = self.direct_.predict_proba(X)[:, 1]
        if self.mode == "direct":
            return p_direct
        p_rule = rule_probability({k: v[:, 2] for k, v in self.criterion_proba(X).items()})
        if self.mode == "criteria":
            return p_rule
        return (p_direct + p_rule) / 2

    def predict_proba(self, X) -> np.ndarray:
        p = self.calibrator_.predict_proba(_logit(self.raw_score(X))[:, None])[:, 1]
        return np.column_stack([1 - p, p])

    def to_linear(self) -> LinearSectionModel:
        """The fitted model as arrays (what is saved): scoring then needs only NumPy."""
        def linear(pipe) -> Linear:
            scaler, logreg = pipe[0], pipe[-1]
            return Linear(scaler.mean_, scaler.scale_, logreg.coef_, logreg.intercept_, logreg.classes_)

        criteria = {name: est if isinstance(est, int) else linear(est) for name, est in self.criterion_models_.items()}
        calibrator = (float(self.calibrator_.coef_[0, 0]), float(self.calibrator_.intercept_[0]))
        return LinearSectionModel(self.mode, linear(self.direct_), criteria, calibrator, self.n_features_in_)

    def predict_criteria(self, X) -> list[dict[str, int]]:
        probs = self.criterion_proba(X)
        n = len(np.asarray(X))
        return [{c: int(np.argmax(probs[c][i])) for c in CRITERIA} for i in range(n)]


@dataclass
class Threshold:
    value: float
    rule: str
    precision: float
    recall: float


def choose_threshold(y: np.ndarray, p: np.ndarray, min_precision: float = 0.80) -> Threshold:
    """The highest recall of `insufficient` at precision >= ``min_precision`` (ties: higher threshold).

    When no threshold reaches that precision, the one with the best F1 is used and the rule says so.
    """
    y = np.asarray(y, dtype=int)
    best: Threshold | None = None
    best_f1: tuple[float, float] = (-1.0, 0.5)
    for t in np.unique(np.round(p, 4)):
        pred = p >= t
        tp = int((pred & (y == 1)).sum())
        precision = tp / max(int(pred.sum()), 1)
        recall = tp / max(int((y == 1).sum()), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        if f1 > best_f1[0]:
            best_f1 = (f1, float(t))
        if precision >= min_precision and (best is None or recall > best.recall
                                           or (recall == best.recall and t > best.value)):
            best = Threshold(float(t), f"max recall of insufficient at precision >= {min_precision:.2f}", precision, recall)
    if best is None:
        t = best_f1[1]
        pred = p >= t
        tp = int((pred & (y == 1)).sum())
        return Threshold(t, f"max F1 (no threshold reached precision {min_precision:.2f})",
                         tp / max(int(pred.sum()), 1), tp / max(int((y == 1).sum()), 1))
    return best
