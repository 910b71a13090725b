"""The served folders: the batches in them (triage outputs, score files, uploads) and their plans.

A served folder may hold a triage output (``needs-review/``, ``passed/``, ``unreadable/`` with a
``<name>.json`` record beside each file, and ``triage-log.jsonl``), score files in JSON Lines (as
``plancheck score -f jsonl`` writes them), and the workbench's own ``uploads/``. Its immediate
subfolders are searched the same way, so serving the parent of several triage outputs works.
Nothing here writes; every path handed out has been resolved and checked to be inside a served
folder.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from ..areas import AREA_KEYS
from ..errors import PlancheckError
from ..record import Record, RecordError
from ..types import Assessment

TRIAGE_FOLDERS = ("needs-review", "passed", "unreadable")
TRIAGE_LOG = "triage-log.jsonl"
UPLOADS = "uploads"
REVIEWS_FILE = "plancheck-reviews.jsonl"
# Files the workbench never reads as score files.
_NOT_SCORES = {TRIAGE_LOG, REVIEWS_FILE, "HISTORY.jsonl"}
# A record or score file larger than this is not read (a triage record holds a plan's text).
MAX_RECORD_BYTES = 64 * 1024 * 1024
# Words in a file name that say nothing about the force ("oakenvale-scan-2009.pdf" is Oakenvale's).
_NAME_NOISE = {"scan", "scanned", "plan", "plans", "draft", "final", "revised", "resubmission", "resubmitted", "copy",
               "improvement", "protective", "services", "psip", "v1", "v2", "v3", "update", "updated"}


class NotServedError(PlancheckError):
    """A request named a batch, plan or file that the served folders do not hold."""

    code = "not_served"


@dataclass(frozen=True)
class Batch:
    """One batch of scored plans: a triage output folder, a score file, or the uploads folder.

    ``id`` is stable for as long as the batch stays where it is (it is made from its place).
    """

    id: str
    root: Path
    path: Path
    kind: str  # triage | scores | uploads

    @property
    def name(self) -> str:
        rel = os.path.relpath(self.path, self.root)
        return self.root.name if rel == "." else f"{self.root.name}/{rel}"


@dataclass(frozen=True)
class Plan:
    """One scored (or unreadable) submission of a batch, with where its files are."""

    batch: Batch
    key: str
    record: Record
    record_file: Path | None
    source: "Path | Callable[[], Path | None] | None"  # the plan's own file, or how to find it when asked
    force: str

    @cached_property
    def original(self) -> Path | None:
        """The plan's own file in a served folder, if there is one (looked for on first use only:
        the national picture of a large batch never needs it)."""
        return self.source() if callable(self.source) else self.source

    @property
    def file_name(self) -> str:
        return re.split(r"[\\/]", self.record.path)[-1] or "(no name)"

    @property
    def scored(self) -> bool:
        return self.record.ok

    @property
    def verdict(self) -> str:
        """``sufficient``, ``needs_review`` or ``unreadable``."""
        return str(self.record.verdict) if self.scored else "unreadable"

    @property
    def p_insufficient(self) -> float | None:
        return self.record.p_insufficient

    @property
    def missing_areas(self) -> list[str]:
        return list(self.record.missing_areas)

    @property
    def assessments(self) -> list[Assessment]:
        return list(self.record.areas)

    @property
    def threshold(self) -> float | None:
        """The model's flag threshold as the record gives it (on each section)."""
        return self.record.threshold

    @property
    def model(self) -> str:
        return self.record.model or ""

    @property
    def error(self) -> RecordError | None:
        return self.record.error


def _key(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def force_name(record: Record, forces: dict[str, str] | None = None) -> str:
    """The force a plan belongs to: the record's ``force``, the corpus's name for the document, a
    force named in the plan's title, or words of the file name ("larkmere-2009.docx" -> "Larkmere")."""
    if record.force:
        return record.force
    names = [re.split(r"[\\/]", str(p or ""))[-1] for p in (record.path, record.extra.get("submitted_as"))]
    for name in names:
        if forces and name in forces:
            return forces[name]
    from ..ingest import name_of_force

    titled = name_of_force(record.title)
    if titled:
        return titled
    name = names[0] or names[1]
    stem = name.split(".")[0] if not name.startswith(".") else name
    words = [w for w in re.split(r"[-_\s]+", stem) if w and not re.fullmatch(r"\d+", w) and w.lower() not in _NAME_NOISE]
    return " ".join(w[:1].upper() + w[1:] for w in words) or name or "(unknown)"


def corpus_forces(corpus: str | Path | None) -> dict[str, str]:
    """Document file name -> force name, from a corpus's labels.csv (empty when there is none)."""
    import csv

    if corpus is None:
        return {}
    try:
        with open(Path(corpus) / "labels.csv", encoding="utf-8-sig", newline="") as fh:
            return {r["document"]: r["force"] for r in csv.DictReader(fh) if r.get("document") and r.get("force")}
    except (OSError, UnicodeDecodeError, KeyError, csv.Error):
        return {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


def _is_record(data) -> bool:
    return isinstance(data, dict) and "path" in data and "status" in data


def _record(data) -> Record | None:
    """A record from a served file's JSON, or None for anything that is not one."""
    if not _is_record(data) or data.get("status") == "duplicate":
        return None
    try:
        return Record.from_dict(data, lenient=True)
    except ValueError:
        return None


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class Folders:
    """The served folders and everything read from them.

    Args:
        folders: folders to serve (a score file may be given instead: its folder is served, and
            only that file is read from it).
        forces: document file name -> force name (the corpus's names), used where a record has none.
    """

    def __init__(self, folders: Iterable[str | Path], forces: dict[str, str] | None = None):
        self.roots: list[Path] = []
        self._only: dict[Path, Path] = {}
        for folder in folders:
            path = Path(folder).resolve()
            if path.is_file():
                self.roots.append(path.parent)
                self._only[path.parent] = path
            elif path.is_dir():
                self.roots.append(path)
            else:
                raise NotServedError(f"{folder}: no such folder to serve")
        self.roots = list(dict.fromkeys(self.roots))
        if not self.roots:
            raise NotServedError("no folder to serve")
        self.forces = forces or {}
        self._cache: dict[Path, tuple[tuple[int, int], object]] = {}
        self._lock = threading.Lock()

    # -- paths -------------------------------------------------------------------------------

    def resolve_inside(self, path: str | Path, base: Path | None = None) -> Path | None:
        """``path`` (relative to ``base``) resolved, if it is inside a served folder; else None.

        Symbolic links are followed before the check, so a link cannot lead out.
        """
        try:
            candidate = Path(path)
            if not candidate.is_absolute():
                if base is None:
                    return None
                candidate = base / candidate
            real = candidate.resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        return real if any(_inside(real, r) for r in self.roots) else None

    def file_in_root(self, index: int, relative: str) -> Path:
        """The file ``relative`` in served folder number ``index``, refused if it leads outside.

        Raises:
            NotServedError: no such served folder, or the path leaves it, or there is no such file.
        """
        if not 0 <= index < len(self.roots) or "\0" in relative:
            raise NotServedError("no such file in the served folders")
        root = self.roots[index]
        real = (root / relative.lstrip("/")).resolve()
        if not _inside(real, root) or not real.is_file():
            raise NotServedError("no such file in the served folders")
        return real

    def link_of(self, path: Path) -> tuple[int, str] | None:
        """(served folder number, relative path) of a file inside a served folder."""
        for i, root in enumerate(self.roots):
            if _inside(path, root):
                return i, path.relative_to(root).as_posix()
        return None

    # -- batches -----------------------------------------------------------------------------

    def batches(self) -> list[Batch]:
        """Every batch in the served folders, in a stable order."""
        out: list[Batch] = []
        for root in self.roots:
            only = self._only.get(root)
            if only is not None:
                out.append(self._batch(root, only, "scores"))
                continue
            for folder in [root] + self._subfolders(root):
                if folder.name == UPLOADS and folder.parent == root:
                    out.append(self._batch(root, folder, "uploads"))
                    continue
                if (folder / TRIAGE_LOG).is_file() or any((folder / d).is_dir() for d in TRIAGE_FOLDERS):
                    out.append(self._batch(root, folder, "triage"))
                for file in self._score_files(folder):
                    out.append(self._batch(root, file, "scores"))
        return out

    def batch(self, batch_id: str) -> Batch:
        for b in self.batches():
            if b.id == batch_id:
                return b
        raise NotServedError(f"no batch {batch_id!r} in the served folders")

    def uploads(self) -> Batch:
        """The uploads batch of the first served folder (its folder may not exist yet)."""
        root = self.roots[0]
        return self._batch(root, root / UPLOADS, "uploads")

    @staticmethod
    def _batch(root: Path, path: Path, kind: str) -> Batch:
        return Batch(_key(str(root), os.path.relpath(path, root), kind)[:10], root, path, kind)

    @staticmethod
    def _subfolders(root: Path) -> list[Path]:
        try:
            return sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
        except OSError:
            return []

    def _score_files(self, folder: Path) -> list[Path]:
        try:
            files = sorted(p for p in folder.iterdir() if p.suffix == ".jsonl" and p.name not in _NOT_SCORES
                           and p.is_file() and not p.is_symlink())
        except OSError:
            return []
        return [f for f in files if self._looks_like_scores(f)]

    @staticmethod
    def _looks_like_scores(path: Path) -> bool:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.strip():
                        return _is_record(json.loads(line))
        except (OSError, ValueError):
            return False
        return False

    # -- plans -------------------------------------------------------------------------------

    def plans(self, batch: Batch | None = None) -> list[Plan]:
        """The plans of one batch, or of every batch."""
        if batch is None:
            return [p for b in self.batches() for p in self.plans(b)]
        if batch.kind == "scores":
            return self._cached(batch.path, lambda: self._read_scores(batch))
        folders = [batch.path / d for d in TRIAGE_FOLDERS] if batch.kind == "triage" else [batch.path]
        log = self._cached(batch.path / TRIAGE_LOG, lambda: self._read_log(batch.path)) if batch.kind == "triage" else {}
        plans = []
        for folder in folders:
            try:
                files = sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file() and not p.is_symlink())
            except OSError:
                continue
            for file in files:
                plan = self._cached(file, lambda f=file: self._read_record_file(batch, f, log))
                if plan is not None:
                    plans.append(plan)
        return plans

    def earlier_plan(self, plan: Plan, match_by: str = "force") -> Plan | None:
        """The latest plan of the same force that came before ``plan``, in any served batch.

        ``match_by``: ``force``, the force the plan names (its record's, or the corpus's name for
        it); or ``file``, the file name up to its first digit ("quillmoor-2010.md" -> quillmoor).
        Plans are ordered by the first year in their file name (else their title), then by name.
        """
        mine = _match_key(plan, match_by)
        if not mine or not plan.scored:
            return None
        order = _plan_order(plan)
        earlier = [p for p in self.plans() if p.scored and p.key != plan.key and _match_key(p, match_by) == mine
                   and _plan_order(p) < order]
        return max(earlier, key=_plan_order, default=None)

    def plan(self, batch_id: str, key: str) -> Plan:
        batch = self.batch(batch_id)
        for p in self.plans(batch):
            if p.key == key:
                return p
        raise NotServedError(f"no plan {key!r} in batch {batch.name}")

    def _cached(self, path: Path, read):
        try:
            st = path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = (0, -1)
        with self._lock:
            hit = self._cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = read()
        with self._lock:
            self._cache[path] = (stamp, value)
        return value

    def _read_scores(self, batch: Batch) -> list[Plan]:
        by_key: dict[str, Plan] = {}
        try:
            if batch.path.stat().st_size > MAX_RECORD_BYTES * 16:
                return []
            lines = batch.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        for line in lines:
            try:
                record = _record(json.loads(line))
            except ValueError:
                continue  # a torn last line of a run that was stopped
            if record is None:
                continue
            key = _key(record.path, str(record.sha256))
            find = functools.partial(self._original_of_scored, record, batch)
            by_key[key] = Plan(batch, key, record, None, find, force_name(record, self.forces))
        return list(by_key.values())

    def _original_of_scored(self, record: Record, batch: Batch) -> Path | None:
        """The plan's own file, if a served folder holds it: the recorded path taken from where the
        score file is, the served folders, their parents or here; else a file of the same name
        directly in a served folder, when its SHA-256 is the record's."""
        path = record.path
        if not path:
            return None
        bases = [batch.path.parent, batch.root, *self.roots, *(r.parent for r in self.roots), Path.cwd()]
        for base in dict.fromkeys(bases):
            found = self.resolve_inside(path, base)
            if found is not None and found.is_file():
                return found
        sha = record.sha256
        name = re.split(r"[\\/]", path)[-1]
        for root in self.roots:
            found = self.resolve_inside(name, root)
            if sha and found is not None and found.is_file() and _sha256(found) == sha:
                return found
        return None

    @staticmethod
    def _read_log(folder: Path) -> dict[str, str]:
        """Record file -> routed file, from triage's log (names may carry a suffix: plan.txt-1.json)."""
        out: dict[str, str] = {}
        try:
            text = (folder / TRIAGE_LOG).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("record") and entry.get("destination"):
                out[str(entry["record"])] = str(entry["destination"])
        return out

    def _read_record_file(self, batch: Batch, file: Path, log: dict[str, str]) -> Plan | None:
        try:
            if file.stat().st_size > MAX_RECORD_BYTES:
                return None
            record = _record(json.loads(file.read_text(encoding="utf-8", errors="replace")))
        except (OSError, ValueError):
            return None
        if record is None:
            return None
        rel = file.relative_to(batch.path).as_posix()
        routed = log.get(rel) or (rel[: -len(".json")])
        original = self.resolve_inside(routed, batch.path)
        if original is not None and not original.is_file():
            original = None
        return Plan(batch, _key(rel), record, file, original, force_name(record, self.forces))


MATCH_BY = ("force", "file")


def _match_key(plan: Plan, match_by: str) -> str:
    from ..overlap import force_of

    if match_by == "file":
        return force_of("", plan.file_name, "file")[0]
    return " ".join(plan.force.lower().split())


def _plan_order(plan: Plan) -> tuple[int, str]:
    for text in (plan.file_name, plan.record.title):
        m = re.search(r"(?<!\d)(19|20)\d\d(?!\d)", text or "")
        if m:
            return int(m.group(0)), plan.file_name
    return 0, plan.file_name


_texts_cache: dict[tuple[str, int, int], dict[str, str]] = {}
_texts_lock = threading.Lock()


def section_texts(path: Path, config) -> dict[str, str]:
    """Each area's text in the plan at ``path``, read again (for records that leave texts out).

    The file is read in an isolated worker with the same limits as a batch (runner.run), never in
    the server's own process; a file that fails gives no texts.
    """
    from ..ingest import read_document
    from ..runner import run
    from ..segment import segment

    try:
        st = path.stat()
    except OSError:
        return {}
    key = (str(path), st.st_mtime_ns, st.st_size)
    with _texts_lock:
        if key in _texts_cache:
            return _texts_cache[key]

    def task(p: str) -> dict:
        seg = segment(read_document(p, config), config.required_areas)
        return {"texts": {s.area: s.text for s in seg.sections}}

    def error(p: str, code: str, message: str) -> dict:
        return {"texts": {}, "error": message}

    try:
        result = next(run([str(path)], task, error, config.replace(jobs=1)))
    except Exception:  # the page shows the evidence sentences instead
        result = {"texts": {}}
    texts = result.get("texts") or {}
    with _texts_lock:
        _texts_cache[key] = texts
    return texts


def area_order(plans: Iterable[Plan]) -> list[str]:
    """The areas to show: every area key in the rubric's order (counter terrorism only when present)."""
    present = {a.area for p in plans for a in p.assessments} | {m for p in plans for m in p.missing_areas}
    return [k for k in AREA_KEYS if k != "counter_terrorism" or k in present]
