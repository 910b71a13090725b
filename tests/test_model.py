"""The section model: rule probability, threshold rule, arrays, sentence support, explanations."""
from __future__ import annotations

import numpy as np
import pytest

from plancheck.explain import agree, deciding, explain, quotable
from plancheck.lexical import SectionModel, char_terms, normalise, rule_probability, word_terms
from plancheck.model import Params, choose_threshold, fit
from plancheck.rubric import CRITERIA, failing, label_from_scores

SPECIFIC = ["DCI Amy Hart will recruit four analysts by 31 March 2010 at a cost of £120,000, reporting monthly to "
            "the Tasking Group with the regional unit.",
            "The Head of Crime will open a second MIT on 1 April 2009 with 22 staff; the ROCU and SOCA will support it.",
            "Supt Lee will train 40 PSU officers by June 2009, funded £80k; success is measured quarterly by the board."]
VAGUE = ["We will consider options to improve our response in due course, working closely with partners.",
         "The force remains committed to keeping this area under review; resources are to be identified.",
         "An owner will be appointed and timescales agreed once the review has concluded, as appropriate."]


def _toy_model(mode: str = "blend") -> SectionModel:
    texts = [t + f" Item {i}." for i in range(6) for t in SPECIFIC + VAGUE]
    y = np.array([0, 0, 0, 1, 1, 1] * 6)
    crit = np.array([[2] * 8 if label == 0 else [1, 1, 1, 1, 1, 0, 1, 1] for label in y])
    return fit(texts, y, crit, Params(mode=mode, min_df=1))


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
    assert bool(failing(scores)) == (expected == 1.0)


def test_model_threshold_is_best_f1_nearest_one_half_on_ties():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.6, 0.2, 0.1, 0.05, 0.65, 0.35])
    t = choose_threshold(y, p)
    assert t.value == pytest.approx(0.65) and t.f1 == pytest.approx(2 * 4 / (2 * 4 + 1))
    assert "out-of-writer" in t.rule


def test_model_normalises_numbers_dates_and_money_into_shared_terms():
    a, b = normalise("by 31/03/2010 for £1.2m"), normalise("by 1 April 2009 for £640,000")
    assert a.split() == b.split() == ["by", "_date_", "for", "_money_"]
    assert "_fy_" in normalise("in 2009/10")
    assert "by _date_" in word_terms("by 31/03/2010")
    assert " by" in char_terms("by")


def test_model_arrays_round_trip_and_carry_no_code(tmp_path):
    model = _toy_model()
    path = tmp_path / "m.npz"
    model.save(path)
    again = SectionModel.load(path)
    p1, c1 = model.predict(SPECIFIC + VAGUE)
    p2, c2 = again.predict(SPECIFIC + VAGUE)
    assert np.allclose(p1, p2) and np.allclose(c1, c2)
    with np.load(path, allow_pickle=False) as npz:  # every member is a plain array
        assert all(npz[k].dtype != object for k in npz.files)


def test_model_arrays_predict_exactly_like_scikit_learn():
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t + f" Item {i}." for i in range(6) for t in SPECIFIC + VAGUE]
    y = np.array([0, 0, 0, 1, 1, 1] * 6)
    model = fit(texts, y, np.full((len(y), 8), 2) - y[:, None], Params(mode="direct", min_df=1))
    vecs = [TfidfVectorizer(analyzer=f, min_df=1, sublinear_tf=True, max_features=40_000) for f in (word_terms, char_terms)]
    X = hstack([v.fit_transform(texts) for v in vecs]).tocsr()
    reference = LogisticRegression(C=4.0, max_iter=5000, class_weight="balanced").fit(X, y).predict_proba(X)[:, 1]
    assert np.allclose(model.raw_score(texts), reference, atol=1e-6)


def test_model_learns_specific_from_vague():
    model = _toy_model()
    p, probs = model.predict(["Insp Kay will deliver 12 PSU courses by 30 June 2009 at £40k, reviewed monthly by "
                              "the regional board.", "Options will be considered in due course with partners."])
    assert p[0] < 0.5 < p[1]
    assert probs[0, CRITERIA.index("owner")].argmax() == 2 and probs[1, CRITERIA.index("owner")].argmax() == 1


def test_model_reads_single_sentences_for_evidence():
    model = _toy_model()
    probs = model.criterion_proba([SPECIFIC[0], VAGUE[2]])
    assert probs.shape == (2, 8, 3) and np.allclose(probs.sum(axis=-1), 1)
    owner = CRITERIA.index("owner")
    assert probs[0, owner].argmax() == 2 and probs[1, owner].argmax() == 1


def test_model_corrupt_or_foreign_file_is_refused(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="not a plancheck model"):
        SectionModel.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, format=np.array("something-else"))
    with pytest.raises(ValueError, match="format"):
        SectionModel.load(other)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, format=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError):
        SectionModel.load(pickled)  # object arrays need pickle, which is never allowed


def test_model_verdict_and_criteria_always_agree():
    p2 = {c: 0.9 for c in CRITERIA} | {"owner": 0.55}
    scores, lowered, raised = agree({c: 2 for c in CRITERIA}, p2, flagged=True)
    assert lowered == {"owner"} and scores["owner"] == 1 and label_from_scores(scores) == "insufficient"
    weak = {c: 2 for c in CRITERIA} | {"timescales": 1, "measures": 1}
    scores, lowered, raised = agree(weak, {c: 0.6 for c in CRITERIA}, flagged=False)
    assert "timescales" in raised and label_from_scores(scores) == "sufficient"


def _sentence_probs(n: int, **by_criterion) -> np.ndarray:
    """(n, 8, 3) probabilities: every sentence silent (score 0) except where given."""
    out = np.tile([0.8, 0.1, 0.1], (n, 8, 1))
    for criterion, rows in by_criterion.items():
        out[:, CRITERIA.index(criterion)] = rows
    return out


def test_model_explain_quotes_only_sentences_that_support_the_claim():
    sentences = ["Who owns this?", "Owner", "An owner will be appointed in due course once the review concludes.",
                 "A detective chief inspector takes charge of the unit on 1 April 2009.", "Crime rose by 12% across the county in 2008."]
    owner = [[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.1, 0.7, 0.2], [0.1, 0.2, 0.7], [0.8, 0.1, 0.1]]
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index("owner")] = [0.1, 0.7, 0.2]
    why = explain(probs, 0.9, 0.5, sentences, _sentence_probs(5, owner=owner))
    assert why.reasons == ("owner: vague - 'An owner will be appointed in due course once the review concludes.'",)
    assert why.criteria["owner"] == 1 and label_from_scores(why.criteria) == "insufficient"
    assert why.evidence["owner"] == ["An owner will be appointed in due course once the review concludes."]


@pytest.mark.parametrize("criterion, sentences, by_criterion, quoted", [
    # Both sentences read as vague on actions, the first the more so; but it is far more about timescales.
    ("actions", ["Timescales for this work are yet to be agreed with partners.",
                 "We will look at options for the unit in due course."],
     {"actions": [[0.15, 0.8, 0.05], [0.1, 0.75, 0.15]], "timescales": [[0.0, 0.9, 0.1], [0.6, 0.3, 0.1]]},
     "We will look at options for the unit in due course."),
    # The row reads as vague on owner (0.75) but vaguer still on timescales (0.9): it is the timescales' quote.
    ("owner", ["Review the Gold group protocol after the 2008 debrief | Ops Planning | TBC |",
               "An owner will be found for this work in time."],
     {"owner": [[0.1, 0.75, 0.15], [0.1, 0.72, 0.18]], "timescales": [[0.05, 0.9, 0.05], [0.6, 0.3, 0.1]]},
     "An owner will be found for this work in time."),
    # The criterion model reads last year's figures as vague timescales; they mention no time to come,
    # so the dated row is the quote.
    ("timescales", ["Armed policing demand rose by 12%, to 214 firearms deployments.",
                    "Firearms refresher training for all AFOs | Firearms Training Unit | to follow |"],
     {"timescales": [[0.05, 0.9, 0.05], [0.1, 0.75, 0.15]]},
     "Firearms refresher training for all AFOs | Firearms Training Unit | to follow |"),
    # A line that opens with another criterion's label is about that criterion, whatever its words.
    ("actions", ["- Achievable: to be considered as part of the 2009/10 budget setting process.",
                 "- Specific: explore options for a joint surveillance team with neighbouring forces."],
     {"actions": [[0.05, 0.9, 0.05], [0.1, 0.75, 0.15]]},
     "- Specific: explore options for a joint surveillance team with neighbouring forces."),
])
def test_model_explain_quotes_a_sentence_only_for_what_it_is_most_about(criterion, sentences, by_criterion, quoted):
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index(criterion)] = [0.1, 0.8, 0.1]
    why = explain(probs, 0.9, 0.5, sentences, _sentence_probs(len(sentences), **by_criterion))
    assert why.reasons == (f"{criterion}: vague - '{quoted}'",)


def test_model_explain_names_what_is_missing_when_no_sentence_qualifies():
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index("timescales")] = [0.2, 0.7, 0.1]
    probs[CRITERIA.index("actions")] = [0.7, 0.2, 0.1]
    why = explain(probs, 0.9, 0.5, ["Crime rose by 12% across the county in 2008."], _sentence_probs(1))
    assert why.reasons == ("actions: not specific - no concrete committed action found",
                           "timescales: not specific - no date, deadline or milestone for the actions found")


def test_model_flag_reasons_are_the_deciding_criteria():
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    for c in ("owner", "objectives", "resources", "measures", "collaboration"):
        probs[CRITERIA.index(c)] = [0.1, 0.8, 0.1]
    why = explain(probs, 0.95, 0.5, [], np.zeros((0, 8, 3)))
    assert [r.split(":")[0] for r in why.reasons] == ["owner"]  # the core failure decides the flag
    probs[CRITERIA.index("owner")] = [0.05, 0.15, 0.8]
    why = explain(probs, 0.95, 0.5, [], np.zeros((0, 8, 3)))
    assert [r.split(":")[0] for r in why.reasons] == ["objectives", "resources", "measures", "collaboration"]


def test_model_flag_with_passing_scores_names_a_doubtful_criterion():
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index("timescales")] = [0.1, 0.35, 0.55]
    why = explain(probs, 0.7, 0.5, [], np.zeros((0, 8, 3)))
    assert why.reasons and why.reasons[0].startswith("timescales: doubtful - the model is only 55% sure")


@pytest.mark.parametrize("sentence,found", [
    ("Owner: DI Sarah Kemp, Public Protection.", {"owner"}),
    ("Gold: ACC Specialist Operations. Strategic intention: to reduce harm.", {"owner"}),
    ("Lead: Crime Directorate.", {"owner"}),  # a unit named as lead: the rubric's "role, person or unit"
    ("Lead: the force and partners.", set()),
    ("The review will be led by Det Supt R. Holt and completed by 30 September 2009.", {"owner", "timescales"}),
    ("Recruit 4 DCs | Lead: DCI Hart | by 31/03/2010", {"owner", "timescales"}),
    ("27 of 31 recommendations had been implemented by March 2009.", set()),  # the past is not a deadline
    ("An owner will be appointed by the ACC in due course.", set()),  # no named owner, no date
    ("DCI Hart presented the profile; the team will report by the end of June 2011.", {"timescales"}),
    ("The Emergency Planning Officer will publish a revised evacuation plan.", {"owner"}),  # a named post that acts
    ("Det Ch Insp Moira Quentin is the owner.", {"owner"}),
    ("Two officers will start, line managed by the Det Supt Special Branch.", {"owner"}),
    ("The Public Protection Unit will be restructured in 2010.", set()),  # the unit is acted on, not acting
    ("The Roads Policing Unit will continue to play its part.", set()),  # as vague an owner as its action
    ("The Head of Crime will consider how the list can be refreshed.", set()),
])
def test_model_span_detectors(sentence, found):
    from plancheck.spans import stated

    assert stated(sentence) == found


def test_model_explain_never_denies_an_owner_or_deadline_a_sentence_states():
    sentences = ["We will form an OCG disruption team by 1 March 2009.", "Owner: DCI Intelligence, DCI Tony Ashe.",
                 "Partners will be engaged as appropriate."]
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index("owner")] = [0.2, 0.6, 0.2]  # the model misreads the owner
    probs[CRITERIA.index("collaboration")] = [0.1, 0.8, 0.1]
    why = explain(probs, 0.8, 0.5, sentences, _sentence_probs(3))
    assert why.criteria["owner"] == 2 and why.evidence["owner"][0] == "Owner: DCI Intelligence, DCI Tony Ashe."
    assert not any(r.startswith("owner") for r in why.reasons)
    assert why.reasons and why.reasons[0].startswith("actions: doubtful")  # the one criterion left to doubt
    # With actions, owner and timescales all stated or certain, nothing is left to doubt: the flag says so.
    assert agree({c: 2 for c in CRITERIA}, {c: 0.9 for c in CRITERIA}, True, frozenset(("owner", "timescales",
                                                                                       "actions")))[1] == set()


@pytest.mark.parametrize("sentence,ok", [("What will we do?", False), ("3.2 Roads Policing", False),
                                         ("Action | Owner | Deadline | Status", False),
                                         ("Recruit 4 DCs | DCI Hart | 31/03/2010", True),
                                         ("The Head of Crime will lead this work from April.", True),
                                         ("Public order and firearms - performance 2006/07 to 2008/09", False),
                                         ("- Recruit two DCs to the unit by March 2010", True),
                                         ("Westmarch Police will:", False),  # a lead-in
                                         ("| Measure | 2008/09 | 2009/10 (to Dec) | Target |", False),  # a header
                                         ("| MC1 | Review MIT resilience | TBC | Ongoing |", True),
                                         ("You asked how we will improve the protection of vulnerable people.", False)])
def test_model_quotable_sentences(sentence, ok):
    assert quotable(sentence) is ok


def test_model_explain_never_quotes_last_years_figures_for_a_vague_plan():
    sentences = ["In 2008/09 the force dealt with 6,820 domestic abuse incidents and 2,910 missing person reports.",
                 "Partners will be engaged as appropriate."]
    probs = np.tile([0.05, 0.15, 0.8], (8, 1))
    probs[CRITERIA.index("owner")] = [0.1, 0.8, 0.1]
    sentence_probs = np.tile([0.05, 0.9, 0.05], (2, 8, 1))  # both read as vague on every criterion
    why = explain(probs, 0.8, 0.5, sentences, sentence_probs)
    owner = next(r for r in why.reasons if r.startswith("owner"))
    assert "6,820" not in owner


@pytest.mark.parametrize("sentence", ["Activities: Special Branch DI, Tony Marsh, will complete protective security surveys.",
                                      "Under Detective Superintendent Mark Oyelaran the unit will train 40 officers.",
                                      "Owner: Emergency Planning Unit. Due: 30 June 2010."])
def test_model_spans_find_owners_named_with_a_rank(sentence):
    from plancheck.spans import stated

    assert "owner" in stated(sentence)


@pytest.mark.parametrize("sentence", ["Owner: partners.", "Lead: Roads Policing Unit and partners.", "Owner: TBC.",
                                      "The Roads Policing Unit will continue to patrol the A59."])
def test_model_spans_refuse_owners_that_are_not_named(sentence):
    from plancheck.spans import stated

    assert "owner" not in stated(sentence)


def test_model_scores_example_plans(scorer, examples):
    good = scorer.score_path(examples / "hollowfield-2009.pdf")
    weak = scorer.score_path(examples / "larkmere-2009.docx")
    missing = scorer.score_path(examples / "stourholme-2009.txt")
    assert good.ok and weak.ok
    assert len(weak.flagged_areas) >= 4
    assert len(good.flagged_areas) <= 1
    assert weak.verdict == "needs_review"
    assert missing.missing_areas == ("civil_contingencies", "roads_policing") and missing.verdict == "needs_review"
    for record in (good, weak):
        for a in record.areas:
            assert set(a.criteria) == set(CRITERIA) and a.threshold == scorer.threshold
            if a.flagged and label_from_scores(a.criteria) == "sufficient":  # every criterion stated outright
                assert a.reasons[0].startswith("flagged by the model")
                continue
            assert a.flagged == (label_from_scores(a.criteria) == "insufficient")
            if a.flagged:
                assert a.reasons and {r.split(":")[0] for r in a.reasons} == set(deciding(a.criteria))


def test_model_refuses_another_pipeline(models_copy):
    from plancheck.card import load_model
    from plancheck.errors import ModelMismatchError

    with pytest.raises(ModelMismatchError, match="pipeline"):
        load_model(None, models_copy, pipeline="blank_en_rules/spacy-3.8.18")


@pytest.mark.parametrize("text,found", [
    ("Owner: to be confirmed following restructure.", {"owner"}),
    ("Timescale: ongoing.", {"timescales"}),
    ("A senior officer will be appointed to lead it in due course.", {"owner"}),
    ("Extend ANPR | Head of Roads Policing | TBC | Amber", set()),  # the owner is named; TBC is not about them
    ("Resources to be identified.", set()),  # not a core criterion the rule hangs on
    ("The force has an ongoing commitment to partners.", set()),
    ("Lead: DI Sarah Kemp. Due: 31 March 2010.", set()),
])
def test_model_spans_find_what_a_section_leaves_unsettled(text, found):
    from plancheck.spans import deferrals

    assert set(deferrals(text)) == found


class _FixedModel:
    """A stand-in for SectionModel whose P(insufficient) is given."""

    def __init__(self, p):
        self.p = np.array(p)

    def predict(self, texts):
        return self.p[: len(texts)], np.tile([0.05, 0.15, 0.8], (len(texts), 8, 1))


def test_model_judge_flags_an_unsettled_owner_the_model_passes_and_says_why():
    from plancheck.score import DEFERRAL_FLOOR, judge

    texts = ["DI Kemp will train 20 officers by 31 March 2010. Owner of the review: to be confirmed.",
             "DI Kemp will train 20 officers by 31 March 2010.",
             "Owner: TBC. The unit will run the exercise by June 2010."]
    p, probs, deferred, model_p = judge(_FixedModel([0.2, 0.2, DEFERRAL_FLOOR / 2]), texts, 0.45)
    assert list(p) == [0.45, 0.2, DEFERRAL_FLOOR / 2]  # raised to the threshold only where the model had doubts
    assert set(deferred[0]) == {"owner"} and not deferred[1]
    sentences = ["DI Kemp will train 20 officers by 31 March 2010.", "Owner of the review: to be confirmed."]
    why = explain(probs[0], float(p[0]), 0.45, sentences, _sentence_probs(2), deferred[0], float(model_p[0]))
    assert why.criteria["owner"] == 1 and label_from_scores(why.criteria) == "insufficient"
    assert why.reasons == ("owner: not settled - 'Owner of the review: to be confirmed.' "
                           "(flagged for this: the model alone gave p = 0.20)",)
