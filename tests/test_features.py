"""Features: each rubric signal finds its evidence, in the English pipeline and the fallback."""
from __future__ import annotations

import pytest

from plancheck import features
from plancheck.features import FEATURES, feature_names, featurise


@pytest.fixture(scope="module")
def blank():
    from plancheck.nlp import _blank
    return _blank()


def _found(nlp, text: str) -> dict[str, list[str]]:
    _, evidence = featurise(nlp(text))
    return {k: v for k, v in evidence.items() if v}


def test_features_registry_is_documented_and_stable():
    assert len(FEATURES) >= 20
    for f in FEATURES.values():
        assert f.doc and f.doc[-1] in ".)'" and f.criterion and f.polarity in ("specific", "vague")
        assert f.name == f.name.lower() and "." in f.name
    criteria = {f.criterion for f in FEATURES.values()}
    assert {"assessment", "objectives", "actions", "owner", "timescales", "resources", "measures",
            "collaboration"} <= criteria
    names = feature_names()
    assert len(names) == len(set(names)) == 3 * len(FEATURES) + 7


@pytest.mark.parametrize("text,feature", [
    ("We will seek to improve our response where possible.", "actions.hedged"),
    ("Timescales are yet to be agreed and an owner will be appointed.", "commitment.deferred"),
    ("No additional resources have been identified for this work.", "resources.vague"),
    ("This will be delivered within existing resources.", "resources.vague"),
    ("Performance will be monitored.", "measures.vague"),
    ("We work closely with partners.", "collaboration.vague"),
    ("The ROCU and SOCA will share intelligence under a regional agreement.", "collaboration.named"),
    ("Recruit 4 DCs | Det Supt Head of Crime | 31/03/2010 | Amber", "timescales.deadline"),
    ("Recruit 4 DCs | Det Supt Head of Crime | 31/03/2010 | Amber", "owner.named"),
    ("Recruit 4 DCs | Det Supt Head of Crime | 31/03/2010 | Amber", "resources.quantified"),
    ("Review training | TBC | Ongoing | Green", "timescales.open"),
])
def test_features_rules_work_in_the_fallback_pipeline(blank, text, feature):
    assert feature in _found(blank, text)


@pytest.mark.english
def test_features_commitment_versus_history(english):
    future = _found(english, "The Head of Crime will recruit six financial investigators by 31 March 2010.")
    past = _found(english, "In 2007/08 the unit seized 42 kg of cocaine and arrested 112 people.")
    assert "actions.committed" in future and "timescales.deadline" in future and "owner.named" in future
    assert "actions.committed" not in past and "timescales.deadline" not in past
    assert "style.past_statistics" in past and "timescales.past_only" in past


@pytest.mark.english
def test_features_subject_of_commitment_from_the_parse(english):
    named = _found(english, "Detective Superintendent Clarke will lead the review of the MIT.")
    vague = _found(english, "The force will lead the review of the MIT.")
    assert "owner.subject" in named and "owner.subject" not in vague
    assert "owner.vague" in vague


def test_features_row_is_numeric_and_evidence_is_text(blank):
    row, evidence = featurise(blank("The Emergency Planning Manager will test the flood plan by June 2010."))
    assert len(row) == len(feature_names()) and all(isinstance(v, float) for v in row)
    assert all(isinstance(s, str) for v in evidence.values() for s in v)


def test_features_signature_records_versions():
    sig = features.registry_signature()
    assert sig["registry"] >= 1 and all(sig[name] >= 1 for name in FEATURES)
