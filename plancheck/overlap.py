"""Passages shared between plans of different forces: copied paragraphs, near-duplicates included.

Each plan is read (``ingest``), split into its area sections (``segment``) and each section into
sentences. A sentence's word 3-shingles are hashed with scikit-learn's ``HashingVectorizer``
(MurmurHash3). A MinHash signature of 64 values, cut into 16 bands of 4, puts sentences that
probably share about half their shingles or more into one bucket (locality-sensitive hashing), so
no two plans are ever compared in full. Candidates from different forces are confirmed by the
exact Jaccard similarity of their shingle sets; confirmed sentences that follow one another in
both plans, within one section on each side, are joined into passages, and a passage of at least
``min_words`` words on both sides is reported.

Memory: a plan's text is not kept once it is indexed. What stays is, per sentence, its shingle
hashes (4 bytes a word), 16 bucket keys (64 bytes) and its compressed text for quoting.
"""
from __future__ import annotations

import re
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence

from .areas import AREA_KEYS, GENERAL
from .config import Config
from .errors import ConfigError, PlancheckError
from .types import cite_pages

MIN_WORDS = 40          # default: shorter shared runs are common phrasing, not a copied passage
MIN_SENTENCE_WORDS = 5  # shorter sentences (headings, labels, table headers) never anchor a match
SIMILARITY = 0.5        # Jaccard of word 3-shingles at which two sentences count as the same
MOSTLY_SHARED = 0.5     # a section with this share of its words shared is "mostly shared"
SHINGLE = 3
HASHES, BANDS = 64, 16  # 16 bands of 4: a pair at Jaccard 0.7 collides in some band 99% of the time
MAX_GAP = 1             # a passage may skip one unmatched sentence on either side (an insertion)
FORCE_FROM = ("text", "file")
_SEED = 20090301

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)\]]*\s+(?=[\"'\u2018\u201c(\[]?[A-Z0-9\u00a3])")
_FORCE = re.compile(r"\b((?:[A-Z][A-Za-z'\u2019-]+\s){1,3})(Constabulary|CONSTABULARY|Police|POLICE)\b"
                    r"(?!\s+(?:Officers?|Support|Staff|and\b|&))")
_NOT_A_NAME = {"the", "our", "national", "regional", "chief", "local", "community", "neighbourhood", "special",
               "civil", "transport", "border", "military", "british", "all", "other", "each", "every", "by", "of",
               "with", "and", "for", "to", "in", "from", "senior", "county", "force", "home", "office"}


# --- reading ---------------------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    """Sentences of a section's text: every line is a unit (a paragraph, a bullet, a table row),
    cut again after a full stop, question or exclamation mark followed by a capital or figure."""
    out = []
    for line in text.split("\n"):
        for piece in _SENTENCE_END.split(line):
            piece = " ".join(piece.split())
            if piece:
                out.append(piece)
    return out


def force_of(text: str, path: str | Path, how: str = "text") -> tuple[str, str]:
    """The force a plan belongs to, as ``(key, name)``: the key compares, the name is shown.

    ``how="text"``: the force named most often in the plan ("Osterfell Constabulary", "Brindleford
    Police Authority" -> "brindleford"), the earliest on a tie; the file name when none is named.
    ``how="file"``: the file name up to its first digit ("osterfell-2009.txt" -> "osterfell").
    """
    if how not in FORCE_FROM:
        raise ConfigError(f"unknown way to find a plan's force {how!r}; expected one of {list(FORCE_FROM)}")
    if how == "text":
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        for m in _FORCE.finditer(text):
            words = m.group(1).split()
            while words and words[0].lower() in _NOT_A_NAME:
                words.pop(0)
            if not words:
                continue
            key = " ".join(words).lower()
            counts[key] = counts.get(key, 0) + 1
            names.setdefault(key, " ".join(w if not w.isupper() else w.title() for w in words) + " "
                             + m.group(2).title())
        if counts:
            key = max(counts, key=lambda k: counts[k])  # max keeps the first of equal counts
            return key, names[key]
    stem = re.split(r"\d", Path(path).name, maxsplit=1)[0]
    stem = re.sub(r"[\s_.-]+", " ", stem).strip().lower() or Path(path).stem.lower()
    stem = re.sub(r"\s+(police|constabulary)$", "", stem)
    return stem, stem


@dataclass
class PlanIndex:
    """What overlap keeps of one plan: sentences (compressed), their places, and their hashes.

    ``sentence_section`` and ``sentence_page`` give each sentence's section (an index into
    ``sections``) and page; ``eligible`` lists the sentences long enough to be matched, in order,
    with their shingle hashes in ``shingles[indptr[k]:indptr[k + 1]]`` and bucket keys in
    ``keys[k]``.
    """

    path: str
    force_key: str
    force: str
    sections: list[tuple[str, tuple[int, ...]]]  # (area, pages)
    text_z: bytes
    words: object  # numpy arrays from here on
    sentence_section: object
    sentence_page: object
    eligible: object
    shingles: object
    indptr: object
    keys: object

    def sentences(self) -> list[str]:
        return zlib.decompress(self.text_z).decode("utf-8").split("\n")

    def section_words(self, index: int) -> int:
        return int(self.words[self.sentence_section == index].sum())


def _page_of(sentences: list[str], pages: dict[int, str], candidates: Sequence[int]) -> list[int]:
    """The page of each sentence: the first candidate page, from the previous sentence's on, whose
    text (whitespace tidied) contains the sentence's opening."""
    out = []
    order = [p for p in candidates if p in pages] or sorted(pages)[:1] or [1]
    at = 0
    for s in sentences:
        probe = s[:80]
        for k in range(at, len(order)):
            if probe in pages.get(order[k], ""):
                at = k
                break
        out.append(order[at])
    return out


class _Hasher:
    """Word 3-shingles -> MurmurHash3 (scikit-learn) -> MinHash -> one bucket key per band."""

    def __init__(self) -> None:
        import numpy as np
        from sklearn.feature_extraction.text import HashingVectorizer

        self.np = np
        self.vectorizer = HashingVectorizer(analyzer="word", ngram_range=(SHINGLE, SHINGLE), lowercase=True,
                                            token_pattern=r"(?u)\b\w+\b", n_features=2 ** 30, alternate_sign=False,
                                            norm=None, binary=True, dtype=np.float32)
        rng = np.random.default_rng(_SEED)
        # Multiply-shift hashing: h(x) = high 32 bits of (a*x + b) mod 2^64, with a odd.
        self.a = rng.integers(1, 2 ** 63, HASHES, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, 2 ** 63, HASHES, dtype=np.uint64)
        self.mix = rng.integers(1, 2 ** 63, HASHES // BANDS, dtype=np.uint64) | np.uint64(1)

    def __call__(self, sentences: list[str]):
        """Shingle hashes (CSR ``indices``, ``indptr``) and bucket keys (n x BANDS) of ``sentences``;
        a sentence with no 3-shingle gets an empty row."""
        np = self.np
        matrix = self.vectorizer.transform(sentences)
        indices, indptr = matrix.indices.astype(np.int32), matrix.indptr.astype(np.int64)
        keys = np.zeros((len(sentences), BANDS), dtype=np.uint32)
        rows = np.flatnonzero(np.diff(indptr) > 0)
        # A few thousand sentences at a time keeps the (64 x shingles) work array small.
        for start in range(0, len(rows), 2000):
            chunk = rows[start:start + 2000]
            lo, hi = indptr[chunk[0]], indptr[chunk[-1] + 1]
            x = indices[lo:hi].astype(np.uint64)
            with np.errstate(over="ignore"):
                h = (self.a[:, None] * x[None, :] + self.b[:, None]) >> np.uint64(32)
                sig = np.minimum.reduceat(h, (indptr[chunk] - lo), axis=1).T  # (rows, HASHES)
                banded = sig.reshape(len(chunk), BANDS, HASHES // BANDS) * self.mix[None, None, :]
                keys[chunk] = (banded.sum(axis=2) >> np.uint64(32)).astype(np.uint32)
        return indices, indptr, keys


def index_plan(path: str | Path, config: Config, force_from: str = "text", hasher: _Hasher | None = None) -> PlanIndex:
    """Read, segment and index one plan.

    Raises:
        IngestError: the file cannot be read (its ``code`` says why).
    """
    from .ingest import read_document
    from .segment import segment

    hasher = hasher or _Hasher()
    document = read_document(path, config)
    seg = segment(document, config.required_areas)
    flat = " ".join(document.text.split())
    # Sections in the order their text appears, so that "one sentence after another" holds across them.
    found = [(flat.find(" ".join(s.text.split())[:80]), s) for s in (*seg.sections, *seg.general) if s.text.strip()]
    ordered = [s for _, s in sorted(found, key=lambda pair: pair[0] if pair[0] >= 0 else len(flat))]
    pages = {p.number: " ".join(p.text.split()) for p in document.pages}
    key, name = force_of(document.text, path, force_from)
    return _index(str(path), key, name, [(s.area, tuple(s.pages), s.text) for s in ordered], pages, hasher)


def index_record(record, force_from: str = "text", hasher: _Hasher | None = None) -> PlanIndex:
    """Index a scored record's sections (``Record``, written with their text) without reading the file again.

    The force is the one the record names (``force``), else the file name's; a sentence's page is
    the first of its section's pages, since a record keeps no page text.
    """
    texts = " ".join(a.text for a in record.areas)
    if force_from == "text" and record.force:
        key, name = force_of(record.force, record.path, "text")
    else:
        key, name = force_of(texts if force_from == "text" else "", record.path, force_from)
    return _index(record.path, key, name, [(a.area, tuple(a.pages), a.text) for a in record.areas if a.text.strip()],
                  {}, hasher or _Hasher())


def _index(path: str, key: str, name: str, ordered: list[tuple[str, tuple[int, ...], str]], pages: dict[int, str],
           hasher: _Hasher) -> PlanIndex:
    """Index sections given in the order their text appears: ``(area, pages, text)``."""
    import numpy as np

    sentences: list[str] = []
    section_of: list[int] = []
    page_of: list[int] = []
    sections = []
    for k, (area, section_pages, text) in enumerate(ordered):
        mine = split_sentences(text)
        sentences += mine
        section_of += [k] * len(mine)
        page_of += _page_of(mine, pages, section_pages) if pages else [min(section_pages, default=1)] * len(mine)
        sections.append((area, tuple(section_pages)))
    words = np.array([len(s.split()) for s in sentences], dtype=np.int32)
    eligible = np.flatnonzero(words >= MIN_SENTENCE_WORDS).astype(np.int32)
    indices, indptr, keys = hasher([sentences[i] for i in eligible])
    has_shingles = np.diff(indptr) > 0
    if not has_shingles.all():  # e.g. a row of symbols: nothing to match on
        eligible, keys = eligible[has_shingles], keys[has_shingles]
        indices = np.concatenate([indices[indptr[i]:indptr[i + 1]] for i in np.flatnonzero(has_shingles)] or
                                 [np.zeros(0, np.int32)])
        indptr = np.concatenate([[0], np.cumsum(np.diff(indptr)[has_shingles])]).astype(np.int64)
    return PlanIndex(path, key, name, sections, zlib.compress("\n".join(sentences).encode("utf-8"), 6), words,
                     np.array(section_of, dtype=np.int32), np.array(page_of, dtype=np.int32), eligible, indices,
                     indptr, keys)


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """One plan's side of a shared passage."""

    path: str
    force: str
    area: str
    pages: tuple[int, ...]
    words: int
    text: str

    def to_dict(self) -> dict:
        return {"path": self.path, "force": self.force, "area": self.area, "pages": list(self.pages),
                "words": self.words, "text": self.text}


@dataclass(frozen=True)
class Passage:
    """A run of sentences found in two plans of different forces.

    ``words`` is the smaller side's count of matched words; ``similarity`` the word-weighted mean
    Jaccard similarity of the matched sentences (1.0: identical wording).
    """

    a: Side
    b: Side
    words: int
    similarity: float
    sentences: int

    @property
    def identical(self) -> bool:
        return self.similarity >= 0.9999

    def to_dict(self) -> dict:
        return {"words": self.words, "similarity": round(self.similarity, 3), "identical": self.identical,
                "sentences": self.sentences, "a": self.a.to_dict(), "b": self.b.to_dict()}


@dataclass(frozen=True)
class SectionShare:
    """How much of one section is text shared with plans of other forces."""

    area: str
    pages: tuple[int, ...]
    words: int
    shared_words: int
    shared_with: tuple[str, ...]

    @property
    def share(self) -> float:
        return self.shared_words / self.words if self.words else 0.0

    @property
    def reason(self) -> str | None:
        """A flag reason when the section is mostly text shared with other forces."""
        if self.share < MOSTLY_SHARED:
            return None
        return (f"shared text: {self.share:.0%} of this section's words are shared with plans of other forces "
                f"({', '.join(Path(p).name for p in self.shared_with)})")

    def to_dict(self) -> dict:
        return {"area": self.area, "pages": list(self.pages), "words": self.words, "shared_words": self.shared_words,
                "share": round(self.share, 3), "shared_with": list(self.shared_with), "reason": self.reason}


@dataclass(frozen=True)
class PlanSummary:
    """One input of an overlap run: its force and sections, or why it could not be read."""

    path: str
    force: str | None
    words: int = 0
    sections: tuple[SectionShare, ...] = ()
    error: dict | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else "read"

    def to_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "error": self.error, "force": self.force,
                "words": self.words, "sections": [s.to_dict() for s in self.sections]}


@dataclass(frozen=True)
class OverlapReport:
    """Every passage shared between plans of different forces, and each section's shared share."""

    plans: tuple[PlanSummary, ...]
    passages: tuple[Passage, ...]
    min_words: int
    similarity: float = SIMILARITY
    force_from: str = "text"

    @property
    def failed(self) -> list[PlanSummary]:
        return [p for p in self.plans if p.error]

    def to_dict(self) -> dict:
        return {"min_words": self.min_words, "similarity": self.similarity, "force_from": self.force_from,
                "plans": [p.to_dict() for p in self.plans], "passages": [p.to_dict() for p in self.passages]}


# --- matching --------------------------------------------------------------------------------

def _candidate_pairs(keys, owner):
    """Pairs (i, j), i < j, of sentences that share a bucket in some band and have different owners."""
    import numpy as np

    n = len(keys)
    codes = []
    for band in range(keys.shape[1] if n else 0):
        order = np.argsort(keys[:, band], kind="stable")
        ordered = keys[order, band]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, n])
        pairs = starts[sizes == 2]
        if len(pairs):
            i, j = order[pairs], order[pairs + 1]
            codes.append(np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j))
        for start, size in zip(starts[sizes > 2], sizes[sizes > 2]):
            members = np.sort(order[start:start + size]).astype(np.int64)
            ii, jj = np.triu_indices(size, k=1)
            codes.append(members[ii] * n + members[jj])
    if not codes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = np.unique(np.concatenate(codes))
    i, j = codes // n, codes % n
    keep = owner[i] != owner[j]
    return i[keep], j[keep]


def _chains(matches: list[tuple[int, int, float]], plan_a: PlanIndex, plan_b: PlanIndex) -> list[list[tuple[int, int, float]]]:
    """Join matched sentences (eligible positions in a, in b, similarity) into runs that advance in
    both plans, skipping at most MAX_GAP unmatched sentences on either side, within one section each."""
    chains: list[list[tuple[int, int, float]]] = []
    ends: dict[tuple[int, int], int] = {}
    sec_a = plan_a.sentence_section[plan_a.eligible]
    sec_b = plan_b.sentence_section[plan_b.eligible]
    steps = sorted(((da, db) for da in range(1, MAX_GAP + 2) for db in range(1, MAX_GAP + 2)), key=lambda d: (max(d), d))
    for pa, pb, sim in sorted(matches):
        for da, db in steps:
            k = ends.get((pa - da, pb - db))
            if k is not None and sec_a[pa - da] == sec_a[pa] and sec_b[pb - db] == sec_b[pb]:
                del ends[(pa - da, pb - db)]
                break
        else:
            k = len(chains)
            chains.append([])
        chains[k].append((pa, pb, sim))
        ends[(pa, pb)] = k
    return chains


def _side(plan: PlanIndex, sentences: list[str], positions: list[int]) -> Side:
    local = [int(plan.eligible[p]) for p in positions]
    span = range(min(local), max(local) + 1)
    section = int(plan.sentence_section[local[0]])
    return Side(plan.path, plan.force, plan.sections[section][0], tuple(sorted({int(plan.sentence_page[i]) for i in span})),
                int(sum(int(plan.words[i]) for i in local)), " ".join(sentences[i] for i in span))


def match_plans(plans: Sequence[PlanIndex], min_words: int = MIN_WORDS,
                similarity: float = SIMILARITY) -> tuple[list[Passage], dict[int, dict[int, set]]]:
    """Passages shared between indexed plans of different forces.

    Returns:
        The passages (ordered by plan, then position) and, per plan and section, the indices of
        the other plans its shared sentences came from, keyed by each shared sentence.
    """
    import numpy as np

    if min_words < 1:
        raise ConfigError(f"--min-words must be at least 1, got {min_words}")
    if not 0 < similarity <= 1:
        raise ConfigError(f"similarity must be in (0, 1], got {similarity}")
    forces = {key: n for n, key in enumerate(sorted({p.force_key for p in plans}))}
    sizes = [len(p.eligible) for p in plans]
    starts = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    keys = np.concatenate([p.keys for p in plans]) if plans else np.zeros((0, BANDS), np.uint32)
    plan_of = np.repeat(np.arange(len(plans)), sizes)
    owner = np.array([forces[p.force_key] for p in plans], dtype=np.int64)[plan_of] if len(plan_of) else plan_of
    gi, gj = _candidate_pairs(keys, owner)
    by_pair: dict[tuple[int, int], list[tuple[int, int, float]]] = defaultdict(list)
    for i, j in zip(gi.tolist(), gj.tolist()):
        a, b = int(plan_of[i]), int(plan_of[j])
        pa, pb = i - int(starts[a]), j - int(starts[b])
        sa = plans[a].shingles[plans[a].indptr[pa]:plans[a].indptr[pa + 1]]
        sb = plans[b].shingles[plans[b].indptr[pb]:plans[b].indptr[pb + 1]]
        both = len(np.intersect1d(sa, sb, assume_unique=True))
        jaccard = both / (len(sa) + len(sb) - both)
        if jaccard >= similarity:
            by_pair[(a, b)].append((pa, pb, jaccard))
    passages: list[tuple[tuple, Passage]] = []
    shared: dict[int, dict[int, set]] = defaultdict(lambda: defaultdict(set))  # plan -> sentence -> other plans
    texts: dict[int, list[str]] = {}
    for (a, b), matches in sorted(by_pair.items()):
        for chain in _chains(matches, plans[a], plans[b]):
            pos_a, pos_b = [m[0] for m in chain], [m[1] for m in chain]
            words_a = sum(int(plans[a].words[plans[a].eligible[p]]) for p in pos_a)
            words_b = sum(int(plans[b].words[plans[b].eligible[p]]) for p in pos_b)
            if min(words_a, words_b) < min_words:
                continue
            for n in (a, b):
                texts.setdefault(n, plans[n].sentences())
            side_a, side_b = _side(plans[a], texts[a], pos_a), _side(plans[b], texts[b], pos_b)
            weights = [int(plans[a].words[plans[a].eligible[p]]) for p in pos_a]
            sim = sum(w * m[2] for w, m in zip(weights, chain)) / sum(weights)
            passages.append(((a, min(pos_a), b, min(pos_b)), Passage(side_a, side_b, min(words_a, words_b), sim, len(chain))))
            for p in pos_a:
                shared[a][int(plans[a].eligible[p])].add(b)
            for p in pos_b:
                shared[b][int(plans[b].eligible[p])].add(a)
    return [p for _, p in sorted(passages, key=lambda item: item[0])], shared


def _summary(plan: PlanIndex, shared: dict[int, set], plans: Sequence[PlanIndex]) -> PlanSummary:
    out = []
    for k, (area, pages) in enumerate(plan.sections):
        mine = [i for i in shared if plan.sentence_section[i] == k]
        others = sorted({o for i in mine for o in shared[i]})
        out.append(SectionShare(area, pages, plan.section_words(k), int(sum(int(plan.words[i]) for i in mine)),
                                tuple(plans[o].path for o in others)))
    order = {key: n for n, key in enumerate((*AREA_KEYS, GENERAL))}
    out.sort(key=lambda s: (order.get(s.area, len(order)), s.pages))
    return PlanSummary(plan.path, plan.force, int(plan.words.sum()), tuple(out))


def find_overlaps(paths: Iterable[str], config: Config | None = None, min_words: int = MIN_WORDS,
                  force_from: str = "text", similarity: float = SIMILARITY,
                  progress: Callable[[str], None] | None = None) -> OverlapReport:
    """Read every plan in ``paths`` (each in an isolated worker, as ``score`` does) and find the
    passages of at least ``min_words`` words that plans of different forces share.

    A file that cannot be read is listed with its error and left out; the rest go on.
    """
    from . import runner

    config = config or Config()
    force_of("", "x", force_from)  # reject an unknown force_from before reading anything
    if min_words < 1:
        raise ConfigError(f"--min-words must be at least 1, got {min_words}")
    paths = list(paths)
    hasher = _Hasher()  # built once here, so forked workers share the imported library

    def task(path: str) -> dict:
        try:
            return {"path": path, "plan": index_plan(path, config, force_from, hasher)}
        except PlancheckError as exc:
            return error(path, exc.code, exc.message)

    def error(path: str, code: str, message: str) -> dict:
        return {"path": path, "error": {"code": code, "message": message}}

    results: dict[str, dict] = {}
    for result in runner.run(paths, task, error, config):
        results[result["path"]] = result
        if progress:
            progress(result["path"])
    plans = [results[p]["plan"] for p in paths if "plan" in results.get(p, {})]
    passages, shared = match_plans(plans, min_words, similarity)
    summaries = {plan.path: _summary(plan, shared.get(n, {}), plans) for n, plan in enumerate(plans)}
    ordered = tuple(summaries.get(p) or PlanSummary(p, None, error=results[p]["error"]) for p in paths)
    return OverlapReport(ordered, tuple(passages), min_words, similarity, force_from)


def mark_shared(records: Sequence, min_words: int = MIN_WORDS, force_from: str = "text",
                similarity: float = SIMILARITY) -> list:
    """Records of one batch (``Record``, with their sections' text) with each section's
    ``shared_with`` and ``shared`` set from the text it shares with the batch's other forces.

    A section that is mostly shared text (``MOSTLY_SHARED`` of its words or more) gets the reason
    first among its reasons, and its record needs review. Error records pass through unchanged.
    """
    from dataclasses import replace

    force_of("", "x", force_from)
    hasher = _Hasher()
    scored = [r for r in records if r.ok]
    plans = [index_record(r, force_from, hasher) for r in scored]
    _, shared = match_plans(plans, min_words, similarity)
    marked: dict[int, object] = {}
    for n, (record, plan) in enumerate(zip(scored, plans)):
        shares = {s.area: s for s in _summary(plan, shared.get(n, {}), plans).sections}
        areas = []
        for a in record.areas:
            share = shares.get(a.area)
            if share is None:  # a section with no text to compare
                areas.append(replace(a, shared=0.0, shared_with=()))
                continue
            reasons = ((share.reason,) if share.reason else ()) + tuple(a.reasons)
            areas.append(replace(a, shared=round(share.share, 3), shared_with=share.shared_with, reasons=reasons))
        marked[id(record)] = record.with_areas(areas)
    return [marked.get(id(r), r) for r in records]


# --- output ----------------------------------------------------------------------------------

def _quote(text: str, limit: int = 150) -> str:
    return "'" + (text if len(text) <= limit else text[:limit - 3].rstrip() + "...") + "'"


def table_lines(report: OverlapReport) -> list[str]:
    """The report for a terminal: each passage with both sides, then the sections most shared."""
    read = [p for p in report.plans if not p.error]
    lines = [f"{len(report.passages)} passage(s) of at least {report.min_words} words shared between plans of "
             f"different forces ({len(read)} plan(s) read, {len({p.force for p in read})} force(s))"]
    for n, passage in enumerate(report.passages, start=1):
        kind = "identical" if passage.identical else f"near-duplicate, similarity {passage.similarity:.2f}"
        lines.append(f"\n[{n}] {passage.words} words, {passage.sentences} sentence(s), {kind}")
        for side in (passage.a, passage.b):
            lines.append(f"    {Path(side.path).name} ({side.force}) {side.area} {cite_pages(side.pages)}")
        lines.append(f"      {_quote(passage.a.text)}")
        if not passage.identical:
            lines.append(f"      {_quote(passage.b.text)}")
    sections = [(p, s) for p in read for s in p.sections if s.shared_words]
    if sections:
        lines.append("\nSections with text found in other forces' plans:")
        for plan, s in sections:
            others = ", ".join(Path(o).name for o in s.shared_with)
            flag = "  MOSTLY SHARED" if s.reason else ""
            lines.append(f"    {Path(plan.path).name:<26} {s.area:<24} {s.share:>4.0%} of {s.words:>4} words, "
                         f"with {others}{flag}")
    for plan in report.failed:
        lines.append(f"\n{plan.path}  ERROR {plan.error['code']}: {plan.error['message']}")
    return lines


# --- command line ----------------------------------------------------------------------------

def register(app) -> None:
    """Add the ``overlap`` verb to the Typer ``app``."""
    import json
    import sys

    import typer

    @app.command()
    def overlap(paths: List[str] = typer.Argument(..., help="files, folders (searched recursively) or glob patterns"),
                min_words: int = typer.Option(MIN_WORDS, "--min-words", "-n",
                                              help="shortest passage reported, in words"),
                fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
                force_from: str = typer.Option("text", "--force-from",
                                               help="text: the force named in the plan; file: the file name"),
                jobs: int = typer.Option(1, "--jobs", "-j", help="worker processes"),
                config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file")) -> None:
        """Find passages shared between plans of different forces (near-duplicates included).

        Each passage is shown with the forces, areas and pages on both sides; each section with
        the share of its words found in other forces' plans. Exit 1 if a file could not be read.

        Example: plancheck overlap examples/overlap/ examples/resubmission/ --min-words 40
        """
        from .config import load_config
        from .runner import collect_paths

        if fmt not in ("table", "json"):
            raise typer.BadParameter("expected table or json", param_hint="--format")
        if force_from not in FORCE_FROM:
            raise typer.BadParameter(f"expected one of {list(FORCE_FROM)}", param_hint="--force-from")
        if min_words < 1:
            raise typer.BadParameter("must be at least 1", param_hint="--min-words")
        cfg = load_config(config, jobs=jobs)
        report = find_overlaps(collect_paths(paths), cfg, min_words, force_from)
        if fmt == "json":
            typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        else:
            typer.echo("\n".join(table_lines(report)))
        if report.failed:
            typer.echo(f"{len(report.failed)} of {len(report.plans)} file(s) could not be read", err=True)
            sys.stdout.flush()
            raise typer.Exit(1)
