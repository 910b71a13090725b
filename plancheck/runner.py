"""Run a task over many files in isolated worker processes, streaming results as they finish.

Each file is handled in a forked worker with a wall-clock timeout, an address-space cap and a
CPU-time backstop, so a file that hangs a parser, burns CPU or allocates without bound fails
alone (``timeout``, ``limit_exceeded``) while the batch goes on. A worker that crashes or is
killed is replaced; workers die with their parent, so no orphans are left.
"""
from __future__ import annotations

import ctypes
import glob
import logging
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Iterable, Iterator

from .config import Config

log = logging.getLogger(__name__)

Task = Callable[[str], dict]
# Names of the files plancheck reads (and of .doc, to say it is unsupported).
_DOCUMENT_SUFFIXES = (".pdf", ".docx", ".doc", ".odt", ".rtf", ".txt", ".md", ".markdown")
ErrorRecord = Callable[[str, str, str], dict]


def collect_paths(inputs: Iterable[str], problems: list[str] | None = None) -> list[str]:
    """Files from paths, folders (searched recursively) and glob patterns, in a stable order.

    Entries that are not regular files (symlinks, FIFOs, sockets) are kept, so that each gets a
    record saying why it was not read; a path that matches nothing is kept for the same reason.

    Args:
        inputs: what the user named.
        problems: if given, receives a message for each input that names nothing to read: a path
            that does not exist, a pattern that matches nothing, a folder with no files in it.
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str):
        if p not in seen:
            seen.add(p)
            out.append(p)

    for item in inputs:
        before = len(out)
        if any(ch in item for ch in "*?[") and not os.path.lexists(item):
            matches = sorted(glob.glob(item, recursive=True))
            for m in matches:
                if _is_folder(m):
                    _walk(m, add)
                else:
                    add(m)
            if not matches:
                add(item)
                _note(problems, f"{item}: matches no file")
        elif _is_folder(item):
            _walk(item, add)
            if len(out) == before:
                _note(problems, f"{item}: holds no files to score (hidden files are skipped)")
        else:
            add(item)
            if not os.path.lexists(item):
                _note(problems, f"{item}: no such file or folder")
    return out


def _note(problems: list[str] | None, message: str) -> None:
    if problems is not None:
        problems.append(message)


def _is_folder(path: str) -> bool:
    """A real directory to search. One named like a document (``plan.pdf/``, an unpacked
    ``plan.docx/``) is kept as an entry instead, so it gets a record saying it is not a file
    rather than vanishing or having its parts scored as plans."""
    return (os.path.isdir(path) and not os.path.islink(path)
            and not path.rstrip(os.sep).lower().endswith(_DOCUMENT_SUFFIXES))


def _walk(folder: str, add: Callable[[str], None]) -> None:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        named = [d for d in dirs if os.path.isdir(os.path.join(root, d)) and not os.path.islink(os.path.join(root, d))
                 and not _is_folder(os.path.join(root, d))]
        for name in named:
            add(os.path.join(root, name))
        dirs[:] = [d for d in dirs if d not in named]
        for name in sorted(files):
            if not name.startswith("."):
                add(os.path.join(root, name))
        # os.walk lists symlinks to directories under dirs without following them: report them too.
        for name in sorted(os.listdir(root)):
            full = os.path.join(root, name)
            if os.path.islink(full) and os.path.isdir(full):
                add(full)


def _limit_self(memory_mb: int, cpu_seconds: float) -> None:
    """In a worker: cap address space and CPU time, and die when the parent dies."""
    import resource

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    try:
        with open("/proc/self/statm") as fh:
            current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        current = 0
    limit = current + memory_mb * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        log.warning("could not set the worker memory limit")
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker killed by a limit leaves no core file
    except (ValueError, OSError):
        pass
    _cpu_budget(cpu_seconds)


def _cpu_budget(seconds: float) -> None:
    """Allow the worker ``seconds`` more CPU time from now.

    RLIMIT_CPU counts a process's whole life and a worker reads many files, so the backstop is
    renewed before each file; otherwise a long batch would kill a worker on an innocent file.
    """
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _worker(conn, task: Task, error: ErrorRecord, memory_mb: int, cpu_seconds: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _limit_self(memory_mb, cpu_seconds)
    while True:
        try:
            path = conn.recv()
        except (EOFError, OSError):
            return
        if path is None:
            return
        _cpu_budget(cpu_seconds)
        try:
            result = task(path)
        except MemoryError:
            result = error(path, "limit_exceeded", f"{path}: needs more memory than the limit allows "
                                                   f"(setting memory_mb)")
        except RecursionError:
            result = error(path, "unreadable", f"{path}: is nested too deeply to read")
        except Exception as exc:  # the last line of defence: a record, never a crash
            result = error(path, "unreadable", f"{path}: could not be processed ({type(exc).__name__}: {exc})")
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


class _Slot:
    def __init__(self, ctx, task, error, config: Config):
        self.conn, child = ctx.Pipe()
        # CPU backstop: the wall-clock timeout normally fires first; a new worker per timeout.
        self.proc = ctx.Process(target=_worker, args=(child, task, error, config.memory_mb, config.timeout * 3 + 30),
                                daemon=True)
        self.proc.start()
        child.close()
        self.path: str | None = None
        self.deadline = 0.0
        self.started = 0.0

    def kill(self) -> None:
        try:
            if self.proc.is_alive():
                os.kill(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass
        self.proc.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.kill()
        else:
            self.conn.close()


def run(paths: Iterable[str], task: Task, error: ErrorRecord, config: Config) -> Iterator[dict]:
    """Run ``task`` on each path in ``config.jobs`` isolated workers; yield records as they finish.

    ``task`` runs in a worker forked from this process (so a model loaded here is shared, not
    reloaded). ``error(path, code, message)`` builds the record for a file whose worker timed out
    or died.
    """
    ctx = mp.get_context("fork")
    queue = deque(paths)
    slots: list[_Slot] = []
    try:
        for _ in range(max(1, min(config.jobs, len(queue)))):
            slots.append(_Slot(ctx, task, error, config))
        while queue or any(s.path is not None for s in slots):
            for slot in slots:
                if slot.path is None and queue:
                    slot.path = queue.popleft()
                    slot.started = time.monotonic()
                    slot.deadline = slot.started + config.timeout
                    slot.conn.send(slot.path)
            busy = [s for s in slots if s.path is not None]
            timeout = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            ready = wait([s.conn for s in busy], timeout=timeout)
            now = time.monotonic()
            for i, slot in enumerate(list(slots)):
                if slot.path is None:
                    continue
                record = None
                replace = False
                if slot.conn in ready:
                    try:
                        record = slot.conn.recv()
                    except (EOFError, OSError):
                        code = slot.proc.exitcode
                        slot.proc.join(timeout=1)
                        code = slot.proc.exitcode if code is None else code
                        record = error(slot.path, "limit_exceeded",
                                       f"{slot.path}: the reader process ended abruptly (exit {code}); the file "
                                       f"exceeded a memory or CPU limit or crashed the parser")
                        replace = True
                elif now >= slot.deadline:
                    record = error(slot.path, "timeout", f"{slot.path}: not read within {config.timeout:g} s "
                                                         f"(setting timeout); the file may be built to hang a parser")
                    replace = True
                if record is None:
                    continue
                slot.path = None
                if replace:
                    slot.kill()
                    if queue:
                        slots[slots.index(slot)] = _Slot(ctx, task, error, config)
                yield record
    finally:
        for slot in slots:
            if slot.proc.is_alive():
                slot.stop() if slot.path is None else slot.kill()

