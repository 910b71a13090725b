"""The section model: what a section's words say about each criterion, as plain arrays.

A section's text is normalised (money, dates, financial years, quarters, percentages and other
numbers become placeholder terms, so "31/03/2010" and "1 April 2009" both read as a date), then
read as two bags of terms: word unigrams and bigrams, and character 2-5-grams within words (which
carry abbreviations, ranks and spellings across writers). Each bag is TF-IDF weighted
(sublinear term frequency, L2-normalised), the two are concatenated, and linear models read them:

* eight criterion models, each a multinomial logistic regression giving P(score = 0, 1, 2);
* a direct model of the label (P(insufficient));
* a combination of the two (the direct probability, the rubric's rule applied to the criterion
  probabilities, or their mean) and a Platt calibrator fitted on out-of-writer predictions.

Everything is held in NumPy arrays and saved with ``np.savez`` and loaded with
``allow_pickle=False``: a model file carries numbers and strings, never code. Training
(``model.py``) fits scikit-learn estimators and hands their arrays to :class:`SectionModel`,
which is the one predictor used for validation, testing and scoring alike.

The sentences quoted as a criterion's evidence are those the criterion model itself, reading each
sentence on its own, takes as vague (or specific) on that criterion (:meth:`criterion_proba`).
"""
from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .rubric import CORE, CRITERIA, SUPPORTING

FORMAT = "plancheck-section-model/1"
MODES = ("direct", "criteria", "blend")

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
# Order matters: money before numbers, full dates before years.
_PLACEHOLDERS = (
    (re.compile(r"£\s?\d[\d,.]*\s?(?:m|k|bn|million|billion)?\b", re.I), " _money_ "),
    (re.compile(r"\b\d[\d,.]*\s?(?:million|billion)\s+pounds\b", re.I), " _money_ "),
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), " _date_ "),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}})?", re.I), " _date_ "),
    (re.compile(rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I), " _date_ "),
    (re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{4}}\b", re.I), " _month_ "),
    (re.compile(r"\b(?:19|20)\d\d\s?[/-]\s?(?:19|20)?\d\d\b"), " _fy_ "),
    (re.compile(r"\bq[1-4]\b", re.I), " _quarter_ "),
    (re.compile(r"\b(?:19|20)\d\d\b"), " _year_ "),
    (re.compile(r"\d+(?:[.,]\d+)?\s?(?:%|per\s?cent\b)", re.I), " _pct_ "),
    (re.compile(r"\b\d+(?:[.,]\d+)*\b"), " _num_ "),
)
_WORD = re.compile(r"_[a-z]+_|[a-z][a-z'&]*[a-z]|[a-z]")
_CHAR_WORD = re.compile(r"\S+")


def normalise(text: str) -> str:
    """Lower-cased text with placeholder terms for money, dates, years, percentages and numbers."""
    text = text.replace("|", " _cell_ ")
    for pattern, placeholder in _PLACEHOLDERS:
        text = pattern.sub(placeholder, text)
    return text.lower()


def word_terms(text: str) -> list[str]:
    """Word unigrams and bigrams of the normalised text."""
    words = _WORD.findall(normalise(text))
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_terms(text: str) -> list[str]:
    """Character 2-5-grams inside each normalised word, padded by a space at each end."""
    out: list[str] = []
    for word in _CHAR_WORD.findall(normalise(text)):
        padded = f" {word} "
        n_chars = len(padded)
        for n in range(2, 6):
            if n > n_chars:
                break
            out.extend(padded[i:i + n] for i in range(n_chars - n + 1))
    return out


ANALYZERS = {"word": word_terms, "char": char_terms}


def _tfidf(terms: Sequence[str], index: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sparse TF-IDF of one bag (sublinear tf, L2 norm): column indices and values."""
    counts = Counter(t for t in terms if t in index)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    cols = np.fromiter((index[t] for t in counts), dtype=np.int64, count=len(counts))
    vals = (1.0 + np.log(np.fromiter(counts.values(), dtype=float, count=len(counts)))) * idf[cols]
    return cols, vals / np.linalg.norm(vals)


class SectionModel:
    """A trained section model held as arrays: scoring needs NumPy only.

    Args:
        kinds: the term bags used, in column order (``("word", "char")``).
        vocabularies: one array of terms per kind.
        idfs: one array of IDF weights per kind.
        direct_coef, direct_intercept: the label model (P(insufficient)), shape (V,) and ().
        criterion_coef, criterion_intercept: shape (8, 3, V) and (8, 3): the criteria in
            rubric order, scores 0, 1, 2.
        mode: how the two views combine (``direct``, ``criteria`` or ``blend``).
        calibrator: Platt scaling ``(a, b)`` of the combined score's logit.
    """

    def __init__(self, kinds, vocabularies, idfs, direct_coef, direct_intercept, criterion_coef,
                 criterion_intercept, mode: str, calibrator: tuple[float, float]):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.kinds = tuple(str(k) for k in kinds)
        self.vocabularies = [np.asarray(v, dtype=str) for v in vocabularies]
        self.idfs = [np.asarray(i, dtype=float) for i in idfs]
        self.direct_coef = np.asarray(direct_coef, dtype=float)
        self.direct_intercept = float(direct_intercept)
        self.criterion_coef = np.asarray(criterion_coef, dtype=float)
        self.criterion_intercept = np.asarray(criterion_intercept, dtype=float)
        self.mode = mode
        self.calibrator = (float(calibrator[0]), float(calibrator[1]))
        self._index = [{t: i for i, t in enumerate(v.tolist())} for v in self.vocabularies]
        self._offsets = np.cumsum([0] + [len(v) for v in self.vocabularies])
        n = int(self._offsets[-1])
        if self.direct_coef.shape != (n,) or self.criterion_coef.shape != (len(CRITERIA), 3, n):
            raise ValueError("model arrays do not match the vocabulary size")

    @property
    def n_terms(self) -> int:
        return int(self._offsets[-1])

    # --- features --------------------------------------------------------------------------

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The section's sparse feature vector: column indices and values."""
        cols, vals = [], []
        for k, kind in enumerate(self.kinds):
            c, v = _tfidf(ANALYZERS[kind](text), self._index[k], self.idfs[k])
            cols.append(c + self._offsets[k])
            vals.append(v)
        return np.concatenate(cols), np.concatenate(vals)

    # --- prediction ------------------------------------------------------------------------

    def _logits(self, vectors: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        direct = np.array([self.direct_coef[c] @ v for c, v in vectors]) + self.direct_intercept
        crit = np.stack([self.criterion_coef[:, :, c] @ v for c, v in vectors]) + self.criterion_intercept
        return direct, crit  # (n,), (n, 8, 3)

    def predict(self, texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """P(insufficient) of each text, and P(score = 0, 1, 2) of each criterion: (n,), (n, 8, 3)."""
        vectors = [self.vector(t) for t in texts]
        if not vectors:
            return np.zeros(0), np.zeros((0, len(CRITERIA), 3))
        direct, crit = self._logits(vectors)
        criteria = _softmax(crit)
        raw = combine(self.mode, _sigmoid(direct), criteria[:, :, 2])
        a, b = self.calibrator
        return _sigmoid(a * logit(raw) + b), criteria

    def raw_score(self, texts: Iterable[str]) -> np.ndarray:
        """The combined, uncalibrated score (what the calibrator is fitted on)."""
        vectors = [self.vector(t) for t in texts]
        direct, crit = self._logits(vectors)
        return combine(self.mode, _sigmoid(direct), _softmax(crit)[:, :, 2])

    def criterion_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(score = 0, 1, 2) of each criterion for each text on its own: (n, 8, 3).

        Explanations ask this of each sentence of a section: a sentence that, read alone, the
        criterion model takes as vague on a criterion is evidence of vagueness on that criterion;
        one it takes as silent on the criterion is not evidence either way.
        """
        if not texts:
            return np.zeros((0, len(CRITERIA), 3))
        vectors = [self.vector(t) for t in texts]
        crit = np.stack([self.criterion_coef[:, :, c] @ v for c, v in vectors]) + self.criterion_intercept
        return _softmax(crit)

    def top_terms(self, n: int = 8) -> dict[str, tuple[list[str], list[str]]]:
        """Per criterion, the ``n`` terms weighing most towards specific (2) and towards vague (1)."""
        terms = np.concatenate(self.vocabularies)
        out = {}
        for j, c in enumerate(CRITERIA):
            w = self.criterion_coef[j, 2] - self.criterion_coef[j, 1]
            order = np.argsort(w)
            out[c] = ([str(t) for t in terms[order[::-1][:n]]], [str(t) for t in terms[order[:n]]])
        return out

    # --- files -----------------------------------------------------------------------------

    def save(self, path: str | Path) -> bytes:
        """The model as ``.npz`` bytes (arrays of numbers and strings only); also written to ``path``."""
        import io

        arrays = {"format": np.array(FORMAT), "kinds": np.array(self.kinds), "mode": np.array(self.mode),
                  "calibrator": np.array(self.calibrator), "direct_coef": self.direct_coef,
                  "direct_intercept": np.array(self.direct_intercept), "criterion_coef": self.criterion_coef,
                  "criterion_intercept": self.criterion_intercept}
        for kind, vocab, idf in zip(self.kinds, self.vocabularies, self.idfs):
            arrays[f"vocabulary_{kind}"] = vocab
            arrays[f"idf_{kind}"] = idf
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        data = buffer.getvalue()
        if path is not None:
            Path(path).write_bytes(data)
        return data

    @classmethod
    def load(cls, path: str | Path) -> "SectionModel":
        """Read a model file; raises ValueError for anything that is not one (never unpickles)."""
        try:
            with open(path, "rb") as fh:
                loaded = np.load(fh, allow_pickle=False)
                if not isinstance(loaded, np.lib.npyio.NpzFile):
                    raise ValueError("a single array, not a model archive")
                with loaded as npz:
                    arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise ValueError(f"not a plancheck model file ({type(exc).__name__}: {exc})") from exc
        if str(arrays.get("format", "")) != FORMAT:
            raise ValueError(f"not a plancheck model file (format {str(arrays.get('format', ''))!r})")
        try:
            kinds = [str(k) for k in arrays["kinds"].tolist()]
            if any(k not in ANALYZERS for k in kinds):
                raise ValueError(f"unknown term kinds {kinds}")
            return cls(kinds, [arrays[f"vocabulary_{k}"] for k in kinds], [arrays[f"idf_{k}"] for k in kinds],
                       arrays["direct_coef"], arrays["direct_intercept"], arrays["criterion_coef"],
                       arrays["criterion_intercept"], str(arrays["mode"]), tuple(arrays["calibrator"].tolist()))
        except KeyError as exc:
            raise ValueError(f"not a plancheck model file (no {exc})") from exc


def combine(mode: str, p_direct: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """The combined score of the direct probability and the criterion P(score = 2), shape (n, 8)."""
    if mode == "direct":
        return p_direct
    p_rule = rule_probability({c: p2[:, j] for j, c in enumerate(CRITERIA)})
    return p_rule if mode == "criteria" else (p_direct + p_rule) / 2


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
    return 1.0 - core * dist[:, 2:].sum(axis=1)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
