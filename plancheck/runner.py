"""Run a task over many files in isolated worker processes, streaming results as they finish.

Each file is handled in a forked worker with a wall-clock timeout, an address-space cap and a
CPU-time backstop, so a file that hangs a parser, burns CPU or allocates without bound fails
alone (``timeout``, ``limit_exceeded``) while the batch goes on. A worker that crashes or is
killed is replaced; workers die with their parent, so no orphans are left.

``run`` reads a batch in ``jobs`` such workers; ``Reader`` keeps one for files that come one at a
time (a Dask task per file), with the same limits and the same records.
"""
from __future__ import annotations

import ctypes
import glob
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from multiprocessing.connection import wait
from queue import SimpleQueue
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


# No answer from a reader yet (a record may be any object, None included).
_PENDING = object()


class _Slot:
    """One forked, limited reader process and the file it is reading (if any)."""

    def __init__(self, ctx, task: Task, error: ErrorRecord, config: Config):
        self.error = error
        self.timeout = config.timeout
        self.conn, child = ctx.Pipe()
        # CPU backstop: the wall-clock timeout normally fires first; a new worker per timeout.
        self.proc = ctx.Process(target=_worker, args=(child, task, error, config.memory_mb, config.timeout * 3 + 30),
                                daemon=True)
        self.proc.start()
        child.close()
        self.path: str | None = None
        self.deadline = 0.0
        self.broken = False  # the reader timed out or died: kill it and start another for the next file

    def send(self, path: str) -> None:
        """Give the reader ``path``; its wall-clock allowance starts now. OSError if the reader is gone."""
        self.conn.send(path)
        self.path = path
        self.deadline = time.monotonic() + self.timeout

    def collect(self, readable: bool, now: float):
        """The record for the file in hand, or ``_PENDING`` while the reader is within its time.

        ``readable``: the reader's end of the pipe has something (a record, or the end of a reader
        that died). A reader that died or ran out of time is marked ``broken`` and gives the file
        a named error record (``limit_exceeded``, ``timeout``).
        """
        path = self.path
        if readable:
            try:
                record = self.conn.recv()
            except (EOFError, OSError):
                code = self.proc.exitcode
                self.proc.join(timeout=1)
                code = self.proc.exitcode if code is None else code
                record = self.error(path, "limit_exceeded",
                                    f"{path}: the reader process ended abruptly (exit {code}); the file "
                                    f"exceeded a memory or CPU limit or crashed the parser")
                self.broken = True
        elif now >= self.deadline:
            record = self.error(path, "timeout", f"{path}: not read within {self.timeout:g} s "
                                                 f"(setting timeout); the file may be built to hang a parser")
            self.broken = True
        else:
            return _PENDING
        self.path = None
        return record

    def idle(self) -> bool:
        """Waiting for a file, and fit to read one."""
        return self.path is None and not self.broken and self.proc.is_alive()

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

    def close(self) -> None:
        """Stop an idle reader, kill a busy or broken one."""
        if self.idle():
            self.stop()
        else:
            self.kill()


def _start(slot: _Slot, path: str, fresh: Callable[[], _Slot]) -> _Slot:
    """Give ``path`` to ``slot``, or to a new slot if that reader has gone (killed while it waited,
    say: not this file's doing). Returns the slot that has the file."""
    if slot.idle():
        try:
            slot.send(path)
            return slot
        except (OSError, ValueError):
            pass
    slot.kill()
    slot = fresh()
    try:
        slot.send(path)
    except BaseException:
        slot.kill()
        raise
    return slot


def run(paths: Iterable[str], task: Task, error: ErrorRecord, config: Config) -> Iterator[dict]:
    """Run ``task`` on each path in ``config.jobs`` isolated workers; yield records as they finish.

    ``task`` runs in a worker forked from this process (so a model loaded here is shared, not
    reloaded). ``error(path, code, message)`` builds the record for a file whose worker timed out
    or died.
    """
    ctx = mp.get_context("fork")
    queue = deque(paths)
    slots: list[_Slot] = []

    def fresh() -> _Slot:
        return _Slot(ctx, task, error, config)

    try:
        for _ in range(max(1, min(config.jobs, len(queue)))):
            slots.append(fresh())
        while queue or any(s.path is not None for s in slots):
            for i, slot in enumerate(slots):
                if slot.path is None and queue:
                    slots[i] = _start(slot, queue.popleft(), fresh)
            busy = [s for s in slots if s.path is not None]
            timeout = max(0.0, min(s.deadline for s in busy) - time.monotonic())
            ready = wait([s.conn for s in busy], timeout=timeout)
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot.path is None:
                    continue
                record = slot.collect(slot.conn in ready, now)
                if record is _PENDING:
                    continue
                if slot.broken:
                    slot.kill()
                    if queue:
                        slots[i] = fresh()
                yield record
    finally:
        for slot in slots:
            if slot.proc.is_alive():
                slot.close()


# Readers kept by Reader are forked from one long-lived thread: a reader's parent-death signal fires
# when the thread that forked it ends, and the thread that asks for a reader may end first (a
# Reader shared by threads, a pool that retires its threads) and would take a healthy reader with it.
_forker: SimpleQueue | None = None
_forker_lock = threading.Lock()


def _forker_loop(requests: SimpleQueue) -> None:
    while True:
        make, box, done = requests.get()
        try:
            box.append((True, make()))
        except BaseException as exc:  # handed back to the caller
            box.append((False, exc))
        done.set()


def _forked_here(make: Callable[[], _Slot]) -> _Slot:
    """``make()`` called in this process's forking thread (started on first use, lives as long as the process)."""
    global _forker
    with _forker_lock:
        if _forker is None:
            requests: SimpleQueue = SimpleQueue()
            threading.Thread(target=_forker_loop, args=(requests,), name="plancheck-reader-fork", daemon=True).start()
            _forker = requests
        requests = _forker
    box: list = []
    done = threading.Event()
    requests.put((make, box, done))
    done.wait()
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _no_forker() -> None:
    global _forker, _forker_lock
    _forker, _forker_lock = None, threading.Lock()  # a forked child has no such thread


os.register_at_fork(after_in_child=_no_forker)


class Reader:
    """One isolated reader process kept for many files, read one at a time, with run()'s guarantees.

    For a caller that gets files one by one (a Dask task per file) rather than as a batch. The
    reader is forked on the first file (so it shares whatever the caller loaded before: the
    model, the pipeline) and reused for the next; a file that kills it or runs out of time gets
    its named error record (``limit_exceeded``, ``timeout``) and the next file a new reader. The
    same wall-clock timeout, address-space cap and CPU backstop as run()'s workers apply, and
    ``error(path, code, message)`` builds the records for those failures.

    Calls are serialised by a lock, so threads may share a Reader (and wait for each other) or
    keep one each. Readers are forked from one thread that lives as long as this process, since a
    reader dies with the thread that forked it (its parent-death signal); one found dead before a
    file is given (killed while it waited) is replaced, and the file is not blamed.
    """

    def __init__(self, task: Task, error: ErrorRecord, config: Config):
        self._ctx = mp.get_context("fork")
        self._task, self._error, self._config = task, error, config
        self._slot: _Slot | None = None
        self._lock = threading.Lock()

    def _fresh(self) -> _Slot:
        return _forked_here(lambda: _Slot(self._ctx, self._task, self._error, self._config))

    @property
    def pid(self) -> int | None:
        """The reader process's id, if one is running."""
        slot = self._slot
        return slot.proc.pid if slot is not None and slot.proc.is_alive() else None

    def read(self, path: str):
        """Read ``path`` in the reader; its record, or a named error record if the reader failed."""
        with self._lock:
            slot = self._slot
            if slot is None:
                slot = self._slot = self._fresh()
            try:
                slot = self._slot = _start(slot, path, self._fresh)
                while True:
                    ready = wait([slot.conn], timeout=max(0.0, slot.deadline - time.monotonic()))
                    record = slot.collect(bool(ready), time.monotonic())
                    if record is not _PENDING:
                        break
            except BaseException:  # interrupted mid-file: the reader's state is unknown
                self._slot.kill()
                self._slot = None
                raise
            if slot.broken:
                slot.kill()
                self._slot = None  # the next file forks a new reader; none is kept for nothing
            return record

    def close(self) -> None:
        """Stop the reader (it is forked again if another file comes)."""
        with self._lock:
            if self._slot is not None:
                self._slot.close()
                self._slot = None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
