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

from .corpus import CORE, CRITERIA, SUPPORTING
from .features import FEATURES

MODES = ("direct", "criteria", "blend")


def _linear(C: float) -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000, class_weight="balanced"))


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

    def predict_criteria(self, X) -> list[dict[str, int]]:
        probs = self.criterion_proba(X)
        n = len(np.asarray(X))
        return [{c: int(np.argmax(probs[c][i])) for c in CRITERIA} for i in range(n)]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


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


# --- explanations ----------------------------------------------------------------------------

CRITERION_QUESTIONS = {
    "assessment": "evidenced statement of the force's own threat, risk or gap",
    "objectives": "specific intended outcome",
    "actions": "concrete committed action",
    "owner": "named accountable role, person or unit",
    "timescales": "date, deadline or milestone for the actions",
    "resources": "committed staff, money or capability",
    "measures": "measure of success or monitoring arrangement",
    "collaboration": "named regional, national or partner arrangement",
}


def criterion_evidence(evidence: dict[str, list[str]], criterion: str, polarity: str) -> list[str]:
    """Evidence sentences of the features that bear on ``criterion`` with ``polarity``."""
    out: list[str] = []
    for name, feat in FEATURES.items():
        if feat.criterion == criterion and feat.polarity == polarity:
            for sentence in evidence.get(name, []):
                if sentence not in out:
                    out.append(sentence)
    if criterion == "timescales" and polarity == "vague":
        for sentence in evidence.get("commitment.deferred", []):
            if sentence not in out and any(w in sentence.lower() for w in ("ongoing", "tbc", "due course", "timescale")):
                out.append(sentence)
    if polarity == "vague":
        # Deferrals and hedges say most about what is missing: quote them first.
        telling = set(evidence.get("commitment.deferred", [])) | set(evidence.get("actions.hedged", []))
        out.sort(key=lambda sentence: sentence not in telling)
    return out


def _quote(sentence: str, limit: int = 140) -> str:
    s = " ".join(sentence.split())
    return "'" + (s if len(s) <= limit else s[: limit - 3].rstrip() + "...") + "'"


def explain(criteria: dict[str, int], p2: dict[str, float], evidence: dict[str, list[str]],
            flagged: bool) -> tuple[list[str], dict[str, list[str]]]:
    """Reasons a reviewer can act on, and the evidence sentences per criterion.

    A criterion scored 0 is "missing"; 1 is "vague" with the sentences that make it so. A flag
    always names at least one criterion: when every score is 2, the least certain ones.
    """
    reasons: list[str] = []
    shown: dict[str, list[str]] = {}
    for c in CRITERIA:
        specific = criterion_evidence(evidence, c, "specific")
        vague = criterion_evidence(evidence, c, "vague")
        shown[c] = (specific if criteria[c] == 2 else vague or specific)[:3]
        if criteria[c] == 0:
            reasons.append(f"{c}: missing - no {CRITERION_QUESTIONS[c]} found")
        elif criteria[c] == 1:
            quote = "; ".join(_quote(s) for s in (vague or specific)[:2])
            reasons.append(f"{c}: vague - {quote}" if quote else f"{c}: vague - no specific {CRITERION_QUESTIONS[c]}")
    if flagged and not any(criteria[c] < 2 for c in CORE):
        core_weak = sorted(CORE, key=lambda c: p2[c])[:1]
        for c in core_weak:
            reasons.insert(0, f"{c}: uncertain - only {p2[c]:.0%} likely to give a specific {CRITERION_QUESTIONS[c]}")
    if flagged and not reasons:
        reasons.append("overall: the section reads like the insufficient plans in the corpus; check it in full")
    # Core criteria first: they decide the label.
    order = {c: i for i, c in enumerate(CORE + SUPPORTING)}
    reasons.sort(key=lambda r: order.get(r.split(":")[0], -1))
    return reasons, shown
