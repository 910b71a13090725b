"""Triage an inbox: score every new submission and route it, with its record and report.

Each file ends up in exactly one of ``needs-review/``, ``passed/`` or ``unreadable/`` under the
output folder (moved by an atomic, no-clobber link-and-unlink; a clash of names gets a suffix),
with ``<name>.json`` and ``<name>.html`` beside it, and one line in ``triage-log.jsonl``. The same
bytes are never scored twice; a file still being written (its size or time changed since the last
poll) waits for the next poll.
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

from .card import atomic_write
from .config import Config
from .errors import PlancheckError
from .score import Scorer, error_record, file_sha256

log = logging.getLogger(__name__)
DESTINATIONS = {"needs_review": "needs-review", "sufficient": "passed", None: "unreadable"}
LOG_NAME = "triage-log.jsonl"


class Triage:
    def __init__(self, inbox: str | Path, out: str | Path, config: Config | None = None, model: str | None = None):
        self.inbox, self.out = Path(inbox), Path(out)
        self.config = config or Config()
        if not self.inbox.is_dir():
            raise PlancheckError(f"{self.inbox}: inbox folder not found")
        if self.out.resolve() == self.inbox.resolve() or self.inbox.resolve() in self.out.resolve().parents:
            raise PlancheckError(f"{self.out}: the output folder must not be inside the inbox")
        for name in set(DESTINATIONS.values()):
            (self.out / name).mkdir(parents=True, exist_ok=True)
        self._lock = open(self.out / ".triage.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock.close()
            raise PlancheckError(f"{self.out}: another triage is already writing here") from exc
        try:
            self.scorer = Scorer.load(model, self.config)
        except BaseException:
            self._lock.close()
            raise
        self.seen: dict[str, dict] = self._read_log()
        self._last: dict[str, tuple] = {}
        self._left_in_place: set[tuple] = set()

    def close(self) -> None:
        """Release the output folder's lock."""
        if not self._lock.closed:
            self._lock.close()

    def __enter__(self) -> "Triage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read_log(self) -> dict[str, dict]:
        seen: dict[str, dict] = {}
        path = self.out / LOG_NAME
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("sha256") and entry.get("event") == "scored":
                    seen.setdefault(entry["sha256"], entry)
        return seen

    def _log(self, entry: dict) -> dict:
        entry = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **entry}
        with open(self.out / LOG_NAME, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        return entry

    # -- polling ------------------------------------------------------------------------------

    def poll(self) -> tuple[list[str], list[str], int]:
        """(stable regular files, other entries to reject, files still settling)."""
        ready, odd, waiting = [], [], 0
        current: dict[str, tuple] = {}
        try:
            names = sorted(os.listdir(self.inbox))
        except OSError as exc:
            raise PlancheckError(f"{self.inbox}: cannot list the inbox ({exc.strerror})") from exc
        for name in names:
            if name.startswith("."):
                continue  # hidden and partial uploads (".name.part") wait for their final name
            path = str(self.inbox / name)
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
            current[path] = sig
            if self._last.get(path) == sig:
                ready.append(path)
            else:
                waiting += 1
        self._last = current
        return ready, odd, waiting

    def process(self, ready: list[str], odd: list[str]) -> Iterator[dict]:
        """Score and route what one poll found; yields the log entries."""
        from . import runner

        for path in odd:
            yield self._route(path, error_record(path, "not_a_file", f"{path}: is not a regular file (a folder, "
                              f"link or pipe); only regular files are read", self.scorer.name, sha256=None))
        fresh = []
        for path in ready:
            digest = file_sha256(path)
            if digest is None:
                continue  # vanished or changed type since the poll
            if digest in self.seen:
                yield self._route(path, None, duplicate_of=self.seen[digest])
            else:
                fresh.append(path)
        if not fresh:
            return
        scorer = self.scorer

        def error(path: str, code: str, message: str) -> dict:
            return error_record(path, code, message, scorer.name, sha256=file_sha256(path, self.config.max_file_bytes))

        for record in runner.run(fresh, scorer.score_path, error, self.config):
            yield self._route(record["path"], record)

    def _route(self, path: str, record: dict | None, duplicate_of: dict | None = None) -> dict:
        from .report import render_html

        name = os.path.basename(path)
        if duplicate_of is not None:
            dest_dir = self.out / duplicate_of["destination"].split("/")[0]
            sha = duplicate_of["sha256"]
        else:
            dest_dir = self.out / DESTINATIONS[record.get("verdict")]
            sha = record.get("sha256")
        try:
            dest, how = _move(path, dest_dir)
        except FileNotFoundError:
            return self._log({"event": "vanished", "file": name, "sha256": sha, "destination": None,
                              "note": "removed from the inbox before it could be moved"})
        if how == "copied":
            info = os.lstat(path)
            self._left_in_place.add((info.st_size, info.st_mtime_ns, info.st_ino))
        rel = f"{dest_dir.name}/{dest.name}"
        if duplicate_of is not None:
            entry = {"event": "duplicate", "file": name, "sha256": sha, "destination": rel,
                     "duplicate_of": duplicate_of.get("destination"), "verdict": duplicate_of.get("verdict"), "how": how}
            record = {"path": str(dest), "sha256": sha, "status": "duplicate", "duplicate_of": duplicate_of.get("destination")}
            atomic_write(dest.with_name(dest.name + ".json"), (json.dumps(record, indent=2) + "\n").encode())
            return self._log(entry)
        record = dict(record, path=str(dest), submitted_as=path)
        atomic_write(dest.with_name(dest.name + ".json"), (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode())
        atomic_write(dest.with_name(dest.name + ".html"), render_html(record).encode("utf-8"))
        entry = {"event": "scored", "file": name, "sha256": sha, "destination": rel, "status": record["status"],
                 "verdict": record.get("verdict"), "error": record.get("error"), "how": how}
        if sha and record["status"] == "scored":
            self.seen[sha] = entry
        return self._log(entry)

    def run_once(self) -> list[dict]:
        ready, odd, _ = self.poll()
        return list(self.process(ready, odd))

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


def _move(path: str, dest_dir: Path) -> tuple[Path, str]:
    """Move ``path`` into ``dest_dir`` without overwriting anything; returns (destination, how).

    A hard link fails if the name is taken (so nothing is ever overwritten), then the inbox
    entry is unlinked. A read-only inbox cannot give its files up: they are copied and left.
    """
    base = os.path.basename(path)
    stem, dot, ext = base.partition(".")
    info = os.lstat(path)
    for n in range(10_000):
        name = base if n == 0 else f"{stem}-{n}{dot}{ext}"
        dest = dest_dir / name
        try:
            if stat.S_ISDIR(info.st_mode):
                if os.path.lexists(dest):
                    continue
                os.rename(path, dest)
                return dest, "moved"
            os.link(path, dest, follow_symlinks=False)
        except FileExistsError:
            continue
        except PermissionError:
            return _copy_no_clobber(path, dest_dir, base, stem, dot, ext), "copied"
        except OSError as exc:
            if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                return _copy_no_clobber(path, dest_dir, base, stem, dot, ext), "copied"
            raise
        try:
            os.unlink(path)
        except PermissionError:
            return dest, "copied"
        return dest, "moved"
    raise PlancheckError(f"{dest_dir}: too many files named like {base}")


def _copy_no_clobber(path: str, dest_dir: Path, base: str, stem: str, dot: str, ext: str) -> Path:
    for n in range(10_000):
        dest = dest_dir / (base if n == 0 else f"{stem}-{n}{dot}{ext}")
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
    raise PlancheckError(f"{dest_dir}: too many files named like {base}")
