"""The fitted section model as plain arrays: what is saved, loaded and used to score.

Scoring needs only NumPy: loading a model imports neither scikit-learn nor SciPy (a faster cold
start), and the artefact holds nothing but arrays, numbers and strings.
"""
from __future__ import annotations

import numpy as np

from .rubric import CORE, CRITERIA, SUPPORTING


def rule_probability(p2: dict[str, np.ndarray]) -> np.ndarray:
    """P(insufficient) from each criterion's P(score = 2), by the label rule.

    Sufficient needs the three core criteria at 2 and at least two of the five supporting ones;
    criteria are treated as independent (a Poisson-binomial count for the supporting ones).
    """
    core = np.prod([p2[c] for c in CORE], axis=0)
    n = len(next(iter(p2.values())))
    dist = np.zeros((n, len(SUPPORTING) + 1))
    dist[:, 0] = 1.0
    for c in SUPPORTING:
        p = p2[c]
        new = dist * (1 - p)[:, None]
        new[:, 1:] += dist[:, :-1] * p[:, None]
        dist = new
    at_least_two = dist[:, 2:].sum(axis=1)
    return 1.0 - core * at_least_two


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))



class Linear:
    """Standardise, then a (multinomial) logistic regression: ``classes`` x features."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray):
        self.mean, self.scale = np.asarray(mean, float), np.asarray(scale, float)
        self.coef, self.intercept = np.asarray(coef, float), np.asarray(intercept, float)
        self.classes = np.asarray(classes, int)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = ((np.asarray(X, float) - self.mean) / self.scale) @ self.coef.T + self.intercept
        if z.shape[1] == 1:  # binary: one column of logits for the second class
            p = 1 / (1 + np.exp(-z[:, 0]))
            return np.column_stack([1 - p, p])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


class LinearSectionModel:
    """Criterion models, direct model and calibrator of a trained SectionClassifier, as arrays."""

    def __init__(self, mode: str, direct: Linear, criteria: dict[str, Linear | int], calibrator: tuple[float, float],
                 n_features: int):
        self.mode = mode
        self.direct = direct
        self.criteria = criteria
        self.calibrator = calibrator
        self.n_features = n_features

    def criterion_proba(self, X) -> dict[str, np.ndarray]:
        """For each criterion, an (n x 3) array of P(score = 0, 1, 2)."""
        X = np.asarray(X, dtype=float)
        out = {}
        for name in CRITERIA:
            est = self.criteria[name]
            probs = np.zeros((len(X), 3))
            if isinstance(est, int):
                probs[:, est] = 1.0
            else:
                p = est.predict_proba(X)
                for k, cls in enumerate(est.classes):
                    probs[:, int(cls)] = p[:, k]
            out[name] = probs
        return out

    def raw_score(self, X) -> np.ndarray:
        p_direct = self.direct.predict_proba(X)[:, 1]
        if self.mode == "direct":
            return p_direct
        p_rule = rule_probability({k: v[:, 2] for k, v in self.criterion_proba(X).items()})
        return p_rule if self.mode == "criteria" else (p_direct + p_rule) / 2

    def predict_proba(self, X) -> np.ndarray:
        a, b = self.calibrator
        p = 1 / (1 + np.exp(-(a * _logit(self.raw_score(X)) + b)))
        return np.column_stack([1 - p, p])
