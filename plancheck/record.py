"""The document record: what every command writes for one file, and what every reader reads.

One record per file. A scored record holds the verdict, the highest p(insufficient), the missing
areas and one :class:`~plancheck.types.Assessment` per area found; an error record holds a named
error instead. Scoring, output, triage, reports, comparisons and the workbench all build and read
records through :class:`Record`; ``to_dict`` and ``from_dict`` are the one place where its JSON
field names are written and read.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from .types import Assessment

SCORED = "scored"
ERROR = "error"
NEEDS_REVIEW = "needs_review"
SUFFICIENT = "sufficient"
# Fields of a record in the order they are written; the last six only in a scored record.
_COMMON = ("path", "sha256", "status", "error", "verdict", "p_insufficient", "missing_areas", "areas", "model")
_SCORED_ONLY = ("kind", "pages", "words", "title", "force", "warnings")


@dataclass(frozen=True)
class RecordError:
    """Why a file was not scored: a stable ``code`` (see errors.py) and a message naming the file."""

    code: str
    message: str


@dataclass(frozen=True)
class Record:
    """The result for one file (scored or not).

    ``extra`` keeps fields that other steps add to a written record (triage's ``submitted_as``,
    say) so that reading and writing a record again loses nothing.
    """

    path: str
    sha256: str | None
    status: str
    error: RecordError | None = None
    verdict: str | None = None
    p_insufficient: float | None = None
    missing_areas: tuple[str, ...] = ()
    areas: tuple[Assessment, ...] = ()
    model: str | None = None
    kind: str = ""
    pages: int = 0
    words: int = 0
    title: str = ""
    force: str = ""
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def scored(cls, path: str, sha256: str, assessments: Iterable[Assessment], missing: Iterable[str],
               model: str | None, **details: Any) -> "Record":
        """A scored record: the verdict follows from the missing areas and the flags (DOMAIN.md),
        and from sections that are mostly other forces' text (``Assessment.needs_review``)."""
        areas = tuple(assessments)
        missing = tuple(missing)
        flagged = any(a.needs_review for a in areas)
        return cls(path, sha256, SCORED, None, NEEDS_REVIEW if (missing or flagged) else SUFFICIENT,
                   max((a.p_insufficient for a in areas), default=None), missing, areas, model, **details)

    @classmethod
    def failed(cls, path: str, code: str, message: str, model: str | None = None,
               sha256: str | None = None) -> "Record":
        return cls(str(path), sha256, ERROR, RecordError(code, message), model=model)

    @property
    def ok(self) -> bool:
        """Whether the file was read and scored."""
        return self.status == SCORED

    @property
    def needs_review(self) -> bool:
        return self.verdict == NEEDS_REVIEW

    @property
    def error_code(self) -> str:
        return self.error.code if self.error else ""

    @property
    def error_message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def flagged_areas(self) -> list[str]:
        """Areas a reviewer should look at: flagged by the model or mostly shared text."""
        return [a.area for a in self.areas if a.needs_review]

    def with_areas(self, areas: Iterable[Assessment]) -> "Record":
        """The same scored record with its sections replaced; the verdict follows them again."""
        fresh = Record.scored(self.path, self.sha256 or "", areas, self.missing_areas, self.model)
        return replace(self, verdict=fresh.verdict, areas=fresh.areas)

    @property
    def threshold(self) -> float | None:
        """The model's flag threshold (every assessment of a record carries the same one)."""
        return next((a.threshold for a in self.areas if a.threshold is not None), None)

    def area(self, key: str) -> Assessment | None:
        return next((a for a in self.areas if a.area == key), None)

    def with_path(self, path: str, **extra: Any) -> "Record":
        """The same record naming the file as ``path`` (error messages follow), plus ``extra`` fields."""
        error = self.error
        if error is not None and self.path and self.path != path:
            error = RecordError(error.code, error.message.replace(self.path, path))
        return replace(self, path=path, error=error, extra={**self.extra, **extra})

    def to_dict(self, with_text: bool = True) -> dict:
        """The record as written to JSON (``with_text=False`` leaves out the sections' text)."""
        out: dict[str, Any] = {
            "path": self.path, "sha256": self.sha256, "status": self.status,
            "error": None if self.error is None else {"code": self.error.code, "message": self.error.message},
            "verdict": self.verdict, "p_insufficient": self.p_insufficient, "missing_areas": list(self.missing_areas),
            "areas": [a.to_dict(with_text) for a in self.areas], "model": self.model,
        }
        if self.ok:
            out.update(kind=self.kind, pages=self.pages, words=self.words, title=self.title, force=self.force,
                       warnings=list(self.warnings))
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict, lenient: bool = False) -> "Record":
        """A record read back from JSON; raises ``ValueError`` if it is not one.

        ``lenient`` (for record files of unknown origin, as the workbench serves them) leaves out
        a section too damaged to read instead of refusing the whole record.
        """
        if not isinstance(data, dict):
            raise ValueError("a record is a JSON object")
        areas = []
        for a in data.get("areas") or ():
            try:
                areas.append(Assessment.from_dict(a))
            except (KeyError, TypeError, ValueError, AttributeError):
                if not lenient:
                    raise ValueError(f"not a plancheck record: a damaged section {str(a)[:60]!r}") from None
        try:
            error = data.get("error")
            if error is not None:
                error = RecordError(str(error["code"]), str(error["message"]))
            p = data.get("p_insufficient")
            return cls(
                path=str(data["path"]), sha256=data.get("sha256"), status=str(data["status"]), error=error,
                verdict=data.get("verdict"), p_insufficient=None if p is None else float(p),
                missing_areas=tuple(str(a) for a in data.get("missing_areas") or ()),
                areas=tuple(areas), model=None if data.get("model") is None else str(data["model"]),
                kind=str(data.get("kind") or ""), pages=int(data.get("pages") or 0), words=int(data.get("words") or 0),
                title=str(data.get("title") or ""), force=str(data.get("force") or ""),
                warnings=tuple(str(w) for w in data.get("warnings") or ()),
                extra={k: v for k, v in data.items() if k not in _COMMON + _SCORED_ONLY})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a plancheck record ({type(exc).__name__}: {exc})") from None
