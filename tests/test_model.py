"""The classifier: rule probability, threshold rule, explanations, scoring records."""
from __future__ import annotations

import numpy as np
import pytest

from plancheck.rubric import CRITERIA, label_from_scores
from plancheck.explain import explain
from plancheck.model import choose_threshold, rule_probability


@pytest.mark.parametrize("scores", [
    {c: 2 for c in CRITERIA},
    {**{c: 2 for c in CRITERIA}, "owner": 1},
    {**{c: 2 for c in CRITERIA}, "assessment": 0, "objectives": 1, "resources": 0, "measures": 1},
    {**{c: 2 for c in CRITERIA}, "assessment": 0, "objectives": 1, "resources": 0},
])
def test_model_rule_probability_matches_the_label_rule_when_certain(scores):
    p2 = {c: np.array([1.0 if scores[c] == 2 else 0.0]) for c in CRITERIA}
    expected = 1.0 if label_from_scores(scores) == "insufficient" else 0.0
    assert rule_probability(p2)[0] == pytest.approx(expected)


def test_model_threshold_maximises_recall_at_precision():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05, 0.65, 0.35])
    t = choose_threshold(y, p, 0.80)
    assert t.precision >= 0.80
    assert t.value == pytest.approx(0.65)  # 0.6 would add a false positive and drop precision
    assert "precision >= 0.80" in t.rule


def test_model_threshold_falls_back_to_f1_and_says_so():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.5, 0.5, 0.5, 0.5])
    t = choose_threshold(y, p, 0.99)
    assert "max F1" in t.rule


def test_model_explain_names_missing_and_vague_with_quotes():
    criteria = {c: 2 for c in CRITERIA} | {"owner": 1, "timescales": 0}
    evidence = {"owner.vague": ["An owner will be appointed in due course."], "timescales.open": []}
    reasons, shown = explain(criteria, {c: 0.5 for c in CRITERIA}, evidence, flagged=True)
    assert reasons[0].startswith("owner: vague - 'An owner will be appointed")
    assert any(r.startswith("timescales: missing") for r in reasons)
    assert shown["owner"] == ["An owner will be appointed in due course."]


def test_model_explain_flag_always_has_a_reason():
    reasons, _ = explain({c: 2 for c in CRITERIA}, {c: 0.9 for c in CRITERIA} | {"owner": 0.55}, {}, flagged=True)
    assert reasons and reasons[0].startswith("owner: uncertain")


def test_model_scores_example_plans(scorer, examples):
    good = scorer.score_path(examples / "hollowfield-2009.pdf")
    weak = scorer.score_path(examples / "larkmere-2009.docx")
    missing = scorer.score_path(examples / "stourholme-2009.txt")
    assert good["status"] == weak["status"] == "scored"
    assert sum(a["flagged"] for a in weak["areas"]) >= 4
    assert sum(a["flagged"] for a in good["areas"]) <= 1
    assert weak["verdict"] == "needs_review"
    assert missing["missing_areas"] == ["civil_contingencies", "roads_policing"] and missing["verdict"] == "needs_review"
    for a in weak["areas"]:
        assert set(a["criteria"]) == set(CRITERIA)
        if a["flagged"]:
            assert a["reasons"] and all(":" in r for r in a["reasons"])


def test_model_refuses_another_pipeline(models_copy):
    from plancheck.card import load_model
    from plancheck.errors import ModelMismatchError

    with pytest.raises(ModelMismatchError, match="pipeline"):
        load_model(None, models_copy, pipeline="blank_en_rules/spacy-3.8.18")


def test_model_saved_arrays_score_exactly_like_the_fitted_classifier():
    from plancheck.model import SectionClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(int)
    crit = np.column_stack([np.clip((X[:, k % 6] > 0) + (X[:, k % 6] > 1), 0, 2) for k in range(8)])
    fitted = SectionClassifier(mode="blend").fit(X, y, criteria=crit)
    linear = fitted.to_linear()
    assert np.allclose(fitted.predict_proba(X), linear.predict_proba(X))
    for c, probs in fitted.criterion_proba(X).items():
        assert np.allclose(probs, linear.criterion_proba(X)[c])
