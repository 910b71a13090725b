"""Triage an inbox: score every new submission and route it, with its record and report.

Each file ends up in exactly one of ``needs-review/``, ``passed/`` or ``unreadable/`` under the
output folder (moved by an atomic, no-clobber link-and-unlink; a clash of names gets a suffix),
with ``<name>.json`` and ``<name>.html`` beside it (written the same no-clobber way), and one line
in ``triage-log.jsonl``. The same bytes are never scored twice. A file is taken only once its size,
time and inode have not changed for the settle time, and its record always holds the hash of the
bytes routed: a file that changed after it was read is scored again. Subfolders are left alone. A
file that cannot be routed gets its own error line; the rest of the inbox goes on.
"""
from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Callable, Iterator

from .card import synced_temp
from .config import BACKENDS, Config
from .errors import PlancheckError
from .record import Record
from .score import Scorer, error_record, file_sha256

log = logging.getLogger(__name__)
DESTINATIONS = {"needs_review": "needs-review", "sufficient": "passed", None: "unreadable"}
LOG_NAME = "triage-log.jsonl"
NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs)
SIDE_SUFFIXES = (".json", ".html")
_SIDE_ROOM = NAME_MAX - len("-9999.html")  # a side file's name with a suffix and ".html" still fits
_RESCORES = 3  # times a file that keeps changing after it was read is read again
FOLDER_REASON = "a folder: triage reads only the files directly in the inbox and leaves folders where they are"


class Triage:
    def __init__(self, inbox: str | Path, out: str | Path, config: Config | None = None, model: str | None = None,
                 backend: str = "local", scheduler: str | None = None):
        """Args:
            backend: ``local`` reads files in ``config.jobs`` isolated workers here; ``dask``
                scores each poll's new files on a Dask cluster (backends.dask_records), at
                ``scheduler`` or on a local cluster of ``config.jobs`` workers started per poll.
        """
        if backend not in BACKENDS:
            raise PlancheckError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
        self.inbox, self.out = Path(inbox), Path(out)
        self.backend, self.scheduler, self.model = backend, scheduler, model
        self.config = config or Config()
        self.settle = max(0.0, float(self.config.settle))
        if not self.inbox.is_dir():
            raise PlancheckError(f"{self.inbox}: inbox folder not found")
        if self.out.resolve() == self.inbox.resolve() or self.inbox.resolve() in self.out.resolve().parents:
            raise PlancheckError(f"{self.out}: the output folder must not be inside the inbox")
        for name in set(DESTINATIONS.values()):
            (self.out / name).mkdir(parents=True, exist_ok=True)
        self._inbox_fd: int | None = None
        self._lock = open(self.out / ".triage.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise PlancheckError(f"{self.out}: another triage is already writing here") from exc
        try:
            # A second lock on the inbox itself: two triages with different output folders would
            # otherwise both take the same files. The lock is on the folder, so a read-only inbox
            # can be locked too, and nothing is added to it.
            self._inbox_fd = os.open(self.inbox, os.O_RDONLY | os.O_DIRECTORY)
            try:
                fcntl.flock(self._inbox_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise PlancheckError(f"{self.inbox}: another triage is already reading this inbox") from exc
                raise PlancheckError(f"{self.inbox}: cannot lock the inbox ({exc.strerror})") from exc
            self.scorer = Scorer.load(model, self.config)
        except BaseException:
            self.close()
            raise
        self._inbox_key = os.path.realpath(self.inbox)
        self.seen, self._taken, self._skipped = self._read_log()
        self._last: dict[str, tuple[tuple, float]] = {}
        self._left_in_place: set[tuple] = set()

    def close(self) -> None:
        """Release the locks on the output folder and the inbox."""
        if self._inbox_fd is not None:
            os.close(self._inbox_fd)
            self._inbox_fd = None
        if not self._lock.closed:
            self._lock.close()

    def __enter__(self) -> "Triage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_log(self) -> tuple[dict[str, dict], set[tuple[str, str]], set[str]]:
        """From the log: files scored (by SHA-256), files copied from a read-only inbox (by source
        and SHA-256) and folders already reported as skipped (by source)."""
        seen: dict[str, dict] = {}
        taken: set[tuple[str, str]] = set()
        skipped: set[str] = set()
        path = self.out / LOG_NAME
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(entry, dict):
                    continue
                if entry.get("sha256") and entry.get("event") == "scored":
                    seen.setdefault(entry["sha256"], entry)
                if entry.get("how") == "copied" and entry.get("source") and entry.get("sha256"):
                    taken.add((entry["source"], entry["sha256"]))
                if entry.get("event") == "skipped" and entry.get("source"):
                    skipped.add(entry["source"])
        return seen, taken, skipped

    def _log(self, entry: dict) -> dict:
        entry = printable_data({"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **entry})
        with open(self.out / LOG_NAME, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return entry

    def _source(self, path: str) -> str:
        """Where a file was found, as the log remembers it."""
        return printable(os.path.join(self._inbox_key, os.path.basename(path)))

    def _leave(self, path: str) -> None:
        """Do not take ``path`` again while it is unchanged (a read-only inbox, a file that failed)."""
        try:
            info = os.lstat(path)
        except OSError:
            return
        self._left_in_place.add((info.st_size, info.st_mtime_ns, info.st_ino))

    # -- polling ------------------------------------------------------------------------------

    def poll(self) -> tuple[list[str], list[str], int]:
        """(settled regular files, other entries, files still settling).

        A file is settled when its size, modification time and inode are those of the last poll
        and have not changed for ``settle`` seconds.
        """
        ready, odd, waiting = [], [], 0
        current: dict[str, tuple[tuple, float]] = {}
        try:
            names = sorted(os.listdir(self.inbox))
        except OSError as exc:
            raise PlancheckError(f"{self.inbox}: cannot list the inbox ({exc.strerror})") from exc
        now = time.monotonic()
        for name in names:
            if name.startswith("."):
                continue  # hidden and partial uploads (".name.part") wait for their final name
            path = os.path.join(self.inbox, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode):
                odd.append(path)
                continue
            sig = (info.st_size, info.st_mtime_ns, info.st_ino)
            if sig in self._left_in_place:
                continue
            last = self._last.get(path)
            unchanged = last is not None and last[0] == sig
            current[path] = (sig, last[1] if unchanged else now)
            if unchanged and now - last[1] >= self.settle:
                ready.append(path)
            else:
                waiting += 1
        self._last = current
        return ready, odd, waiting

    def process(self, ready: list[str], odd: list[str]) -> Iterator[dict]:
        """Score and route what one poll found; yields the log entries."""
        from . import runner

        for path in odd:
            if _is_folder(path):
                entry = self._skip(path)
                if entry:
                    yield entry
                continue
            yield self._route(path, error_record(path, "not_a_file", f"{printable(path)}: is not a regular file "
                              f"(a link or pipe); only regular files are read", self.scorer.name, sha256=None))
        fresh = []
        for path in ready:
            digest = file_sha256(path)
            if digest is None:
                continue  # vanished or changed type since the poll
            if (self._source(path), digest) in self._taken:
                self._leave(path)  # copied from this read-only inbox by an earlier run
            elif digest in self.seen:
                yield self._route(path, None, duplicate_of=self.seen[digest])
            else:
                fresh.append(path)
        if fresh:
            if self.backend == "dask":
                from .backends import dask_records

                # The model this triage loaded, by name, so that a promotion meanwhile does not mix two.
                model = self.model if self.model is not None else self.scorer.name
                records = dask_records(fresh, self.config, model, self.scheduler)
            else:
                records = runner.run(fresh, self.scorer.score_path, self._error_record, self.config)
            for record in records:
                yield self._route(record.path, record)

    def _error_record(self, path: str, code: str, message: str) -> Record:
        return error_record(path, code, message, self.scorer.name,
                            sha256=file_sha256(path, self.config.max_file_bytes))

    def _score_one(self, path: str) -> Record:
        from . import runner

        return list(runner.run([path], self.scorer.score_path, self._error_record, self.config))[0]

    def _skip(self, path: str) -> dict | None:
        """Log a folder in the inbox once (it is left where it is)."""
        source = self._source(path)
        if source in self._skipped:
            return None
        self._skipped.add(source)
        return self._log({"event": "skipped", "file": os.path.basename(path), "source": source, "sha256": None,
                          "destination": None, "reason": FOLDER_REASON})

    # -- routing ------------------------------------------------------------------------------

    def _route(self, path: str, record: Record | None, duplicate_of: dict | None = None) -> dict:
        """Move one file, check its bytes, write its record and report, log it.

        Any failure is this file's error line, never the end of the batch: a file that could not be
        moved stays in the inbox (and is not tried again while it is unchanged); one that was moved
        stays where it was moved to.
        """
        name = os.path.basename(path)
        if duplicate_of is not None:
            dest_dir = self.out / duplicate_of["destination"].split("/")[0]
            sha = duplicate_of["sha256"]
        else:
            dest_dir = self.out / DESTINATIONS[record.verdict]
            sha = record.sha256
        base = {"file": name, "source": self._source(path)}
        try:
            dest, how = _move(path, dest_dir)
        except FileNotFoundError:
            return self._log({"event": "vanished", **base, "sha256": sha, "destination": None,
                              "note": "removed from the inbox before it could be moved"})
        except Exception as exc:
            self._leave(path)
            return self._failed(base, sha, None, None, exc)
        try:
            if how == "copied":
                self._leave(path)
            dest, record, duplicate_of = self._check(dest, record, duplicate_of)
            return self._finish(path, dest, how, record, duplicate_of, base)
        except Exception as exc:
            return self._failed(base, sha, dest, how, exc)

    def _check(self, dest: Path, record: Record | None,
               duplicate_of: dict | None) -> tuple[Path, Record | None, dict | None]:
        """Make sure the record is of the bytes routed: a file that changed after it was read (its
        writer came back) is read again, and moved if its verdict changed."""
        for attempt in range(_RESCORES + 1):
            expected = duplicate_of["sha256"] if duplicate_of is not None else record.sha256
            if expected is None:
                return dest, record, duplicate_of  # no bytes were read (not a regular file, too large)
            actual = file_sha256(dest)
            if actual == expected:
                return dest, record, duplicate_of
            if attempt == _RESCORES:
                break
            log.info("%s changed after it was read; reading it again", printable(str(dest)))
            duplicate_of, record = None, self._score_one(str(dest))
            folder = self.out / DESTINATIONS[record.verdict]
            if folder != dest.parent:
                dest, _ = _move(str(dest), folder)
        record = error_record(str(dest), "changed", f"{printable(str(dest))}: kept changing while it was read; "
                              f"submit it again once it is complete", self.scorer.name, sha256=file_sha256(dest))
        if dest.parent != self.out / DESTINATIONS[None]:
            dest, _ = _move(str(dest), self.out / DESTINATIONS[None])
        return dest, record, None

    def _finish(self, path: str, dest: Path, how: str, record: Record | None, duplicate_of: dict | None,
                base: dict) -> dict:
        from .report import render_html

        folder = dest.parent.name
        rel = f"{folder}/{dest.name}"
        if duplicate_of is not None:
            sha = duplicate_of["sha256"]
            record = {"path": str(dest), "sha256": sha, "status": "duplicate",
                      "duplicate_of": duplicate_of.get("destination"), "submitted_as": path}
            names = _write_beside(dest, {".json": _json_bytes(printable_data(record))})
            entry = {"event": "duplicate", **base, "sha256": sha, "destination": rel,
                     "duplicate_of": duplicate_of.get("destination"), "verdict": duplicate_of.get("verdict"),
                     "how": how, "record": f"{folder}/{names['.json']}"}
        else:
            data = printable_data(record.with_path(str(dest), submitted_as=path).to_dict())
            record = Record.from_dict(data)
            names = _write_beside(dest, {".json": _json_bytes(data), ".html": render_html(record).encode("utf-8")})
            sha = record.sha256
            entry = {"event": "scored", **base, "sha256": sha, "destination": rel, "status": record.status,
                     "verdict": record.verdict, "error": data["error"], "how": how,
                     "record": f"{folder}/{names['.json']}", "report": f"{folder}/{names['.html']}"}
        entry = self._log(entry)
        if sha and entry["event"] == "scored" and entry["status"] == "scored":
            self.seen[sha] = entry
        if sha and how == "copied":
            self._taken.add((base["source"], sha))
        return entry

    def _failed(self, base: dict, sha: str | None, dest: Path | None, how: str | None, exc: Exception) -> dict:
        """The error line (and, when the file was moved, its error record) of a file that could not be routed."""
        if dest is not None:
            where, sha = "was moved but could not be recorded", file_sha256(dest)
        else:
            where = "could not be moved; it is left in the inbox"
        message = f"{printable(base['file'])}: {where} ({type(exc).__name__}: {exc})"
        log.warning("%s", message)
        entry = {"event": "error", **base, "sha256": sha, "destination": None, "status": "error",
                 "verdict": None, "error": {"code": "not_routed", "message": message}, "how": how}
        if dest is not None:
            entry["destination"] = f"{dest.parent.name}/{dest.name}"
            record = error_record(str(dest), "not_routed", message, self.scorer.name, sha256=sha)
            try:
                names = _write_beside(dest, {".json": _json_bytes(printable_data(record.to_dict()))})
                entry["record"] = f"{dest.parent.name}/{names['.json']}"
            except Exception:
                pass  # the log line below still says what happened
        return self._log(entry)

    # -- running ------------------------------------------------------------------------------

    def run_until_settled(self, interval: float = 2.0, max_wait: float = 600.0) -> Iterator[dict]:
        """Poll until the inbox holds nothing new (files being written are waited for)."""
        deadline = time.monotonic() + max_wait
        while True:
            ready, odd, waiting = self.poll()
            yield from self.process(ready, odd)
            if not waiting or time.monotonic() > deadline:
                return
            time.sleep(interval)

    def watch(self, interval: float = 2.0, on_result: Callable[[dict], None] | None = None,
              stop: Callable[[], bool] | None = None) -> None:
        """Poll until interrupted (Ctrl-C) or ``stop()`` is true."""
        while not (stop and stop()):
            ready, odd, _ = self.poll()
            for entry in self.process(ready, odd):
                if on_result:
                    on_result(entry)
            time.sleep(interval)


def describe(entry: dict) -> str:
    """The line shown to a person for one log entry (``plan.pdf -> passed/plan.pdf``)."""
    event, name, dest = entry.get("event"), entry.get("file"), entry.get("destination")
    if event == "duplicate":
        return f"{name} -> {dest} (duplicate of {entry.get('duplicate_of')})"
    if event == "skipped":
        return f"{name}: skipped ({entry.get('reason')})"
    if event == "vanished":
        return f"{name}: vanished ({entry.get('note')})"
    if event == "error":
        return f"{name} -> {dest or 'left in the inbox'} (error: {entry['error']['message']})"
    return f"{name} -> {dest}"


# -- names ------------------------------------------------------------------------------------

def printable(text: str) -> str:
    """``text`` as valid UTF-8: bytes of a name that were not UTF-8 (the surrogate escapes that
    ``os.listdir`` gives them) are written as ``\\xe9``."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def printable_data(value):
    """``value`` (a record or log entry) with every string made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_data(v) for v in value]
    return value


def _is_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _cut(text: str, size: int) -> str:
    """The start of ``text`` that fits in ``size`` bytes, not ending inside a character."""
    raw = os.fsencode(text)
    if len(raw) <= size:
        return text
    end = max(size, 0)
    while 0 < end < len(raw) and raw[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte
        end -= 1
    return os.fsdecode(raw[:end])


def _cut_start(text: str, size: int) -> str:
    """The end of ``text`` that fits in ``size`` bytes, not starting inside a character."""
    raw = os.fsencode(text)
    if len(raw) <= size:
        return text
    start = len(raw) - size
    while start < len(raw) and raw[start] & 0xC0 == 0x80:
        start += 1
    return os.fsdecode(raw[start:])


def _suffixed(base: str, n: int) -> str:
    """``plan.pdf`` -> ``plan-<n>.pdf``, the stem shortened if the name would be too long."""
    stem, dot, ext = base.partition(".")
    tail = f"-{n}{dot}{ext}"
    if len(os.fsencode(tail)) > NAME_MAX // 2:  # a very long "extension": number the whole name
        stem, tail = base, f"-{n}"
    return _cut(stem, NAME_MAX - len(os.fsencode(tail))) + tail


def _candidates(base: str) -> Iterator[str]:
    yield base
    for n in range(1, 10_000):
        yield _suffixed(base, n)


def _side_stem(name: str) -> str:
    """The name a routed file's record and report are named after: ``name`` itself, or a printable,
    shortened form (its start, ``~`` and its end, where a number and extension are) where it is not
    UTF-8 or too long for ``<name>.html``."""
    name = printable(name)
    if len(name.encode("utf-8")) <= _SIDE_ROOM:
        return name
    end = _cut_start(name, 32)
    return _cut(name, _SIDE_ROOM - len(end.encode("utf-8")) - 1) + "~" + end


def _side_taken(dest: Path) -> bool:
    stem = _side_stem(dest.name)
    return any(os.path.lexists(dest.parent / (stem + suffix)) for suffix in SIDE_SUFFIXES)


# -- writing without overwriting --------------------------------------------------------------

def _json_bytes(record: dict) -> bytes:
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_beside(dest: Path, contents: dict[str, bytes]) -> dict[str, str]:
    """Write ``<name><suffix>`` beside ``dest`` for each of ``contents`` (suffix -> bytes), never over
    an existing file: if any name is taken, all take the next free number (``<name>-1.json``).
    Returns the names written, by suffix."""
    stem = _side_stem(dest.name)
    for n in range(10_000):
        names = {suffix: f"{stem}-{n}{suffix}" if n else stem + suffix for suffix in contents}
        if any(os.path.lexists(dest.parent / name) for name in names.values()):
            continue
        written: list[Path] = []
        try:
            for suffix, data in contents.items():
                _create(dest.parent / names[suffix], data)
                written.append(dest.parent / names[suffix])
        except FileExistsError:  # taken since the check: take back what was written, try the next
            for path in written:
                path.unlink()
            continue
        return names
    raise PlancheckError(f"{dest.parent}: too many files named like {printable(dest.name)}")


def _create(path: Path, data: bytes) -> None:
    """Write a new file at ``path``, complete or not at all; FileExistsError if the name is taken."""
    tmp = synced_temp(path, data, prefix=".triage-")
    try:
        try:
            os.link(tmp, path)  # fails rather than overwrite
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            # no hard links on this file system: create the name exclusively, then fill it
            umask = os.umask(0)
            os.umask(umask)
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~umask), "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    finally:
        os.unlink(tmp)


def _move(path: str, dest_dir: Path) -> tuple[Path, str]:
    """Move ``path`` into ``dest_dir`` without overwriting anything; returns (destination, how).

    A hard link fails if the name is taken (so nothing is ever overwritten), then the inbox
    entry is unlinked. A name whose record or report name is taken is passed over too. A
    read-only inbox cannot give its files up: they are copied and left.
    """
    base = os.path.basename(path)
    for name in _candidates(base):
        dest = dest_dir / name
        if _side_taken(dest):
            continue
        try:
            os.link(path, dest, follow_symlinks=False)
        except FileExistsError:
            continue
        except PermissionError:
            return _copy_no_clobber(path, dest_dir, base), "copied"
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                return _copy_no_clobber(path, dest_dir, base), "copied"
            raise
        try:
            os.unlink(path)
        except PermissionError:
            # The original stays; keep a copy of its own rather than a second name for the same
            # file, which would change if the original were rewritten.
            try:
                os.unlink(dest)
            except OSError:
                return dest, "copied"
            return _copy_no_clobber(path, dest_dir, base), "copied"
        return dest, "moved"
    raise PlancheckError(f"{dest_dir}: too many files named like {printable(base)}")


def _copy_no_clobber(path: str, dest_dir: Path, base: str) -> Path:
    for name in _candidates(base):
        dest = dest_dir / name
        if _side_taken(dest):
            continue
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            if os.path.islink(path) or not os.path.isfile(path):
                out.write(b"")
            else:
                with open(path, "rb") as src:
                    shutil.copyfileobj(src, out)
        return dest
    raise PlancheckError(f"{dest_dir}: too many files named like {printable(base)}")
