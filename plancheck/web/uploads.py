"""Plans uploaded in the browser: checked, stored in ``uploads/`` of the first served folder, and
scored through the same isolated worker as a batch (runner.run), with the same limits.

The record is written beside the file as ``<name>.json`` (with the section texts, as triage
writes it), so the upload is a plan of the ``uploads`` batch like any other. Nothing is
overwritten: a name already taken gets a number.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..config import Config
from ..errors import PlancheckError
from ..runner import run
from ..score import error_record, file_sha256

# What a plan may be, by name and by its first bytes (the reader checks the bytes again).
KINDS = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04", ".txt": None, ".md": None}
MAX_NAME = 120


class UploadError(PlancheckError):
    """An uploaded file was refused before it was stored."""

    code = "upload"


def safe_name(name: str) -> str:
    """A plain file name from whatever the browser sent: no folders, no hidden names, printable."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[: MAX_NAME] or "plan"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check(name: str, data: bytes, limit: int) -> str:
    """The suffix of an acceptable upload.

    Raises:
        UploadError: empty, too large, of a kind plancheck does not read, or not what its name says.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in KINDS:
        raise UploadError(f"{name}: plancheck reads {', '.join(KINDS)} files; this one is {suffix or 'without a suffix'}")
    if not data:
        raise UploadError(f"{name}: the file is empty")
    if len(data) > limit:
        raise UploadError(f"{name}: {len(data):,} bytes is more than the limit of {limit:,} (setting max_file_bytes)")
    magic = KINDS[suffix]
    if magic is not None and not data.startswith(magic):
        raise UploadError(f"{name}: is not a {suffix} file (its first bytes say otherwise)")
    if magic is None:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadError(f"{name}: is not UTF-8 text") from None
    return suffix


def _create(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a new file named ``name`` (or ``name-1`` ...), never over another."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = os.path.splitext(name)
    for n in range(10_000):
        candidate = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
        if os.path.lexists(candidate) or os.path.lexists(f"{candidate}.json"):
            continue
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return candidate
    raise UploadError(f"{name}: too many uploads of this name")


def store_and_score(folder: Path, name: str, data: bytes, scorer, config: Config) -> Path:
    """Store an upload and score it in an isolated worker; returns its record file."""
    path = _create(folder, safe_name(name), data)

    def error(p: str, code: str, message: str) -> dict:
        return error_record(p, code, message, scorer.name, sha256=file_sha256(p, config.max_file_bytes))

    record = next(run([str(path)], scorer.score_path, error, config.replace(jobs=1)))
    record_file = Path(f"{path}.json")
    fd = os.open(record_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return record_file
