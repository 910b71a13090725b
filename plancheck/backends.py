"""Where a batch runs: here (``local``, runner.py's forked workers) or on a Dask cluster (``dask``).

On Dask, the command's process is a client. It checks the model, sends it once to every Dask
worker in a worker plugin (each worker checks its SHA-256 again and loads it once), and submits
one task per file, a window at a time, writing records as tasks finish. A task reads its file in
plancheck's isolated reader (runner.Reader, with the same timeout, memory cap and named errors as
a local run): each worker thread forks one after the model is loaded and keeps it for its next
tasks, as a local run keeps its ``--jobs`` readers, and a new one replaces a reader that a file
killed or that timed out. A hostile file can kill that forked reader but never the Dask worker. If a Dask
worker dies anyway (killed, out of memory, its machine lost), the scheduler runs its tasks again on
another worker; a task that has taken down ``distributed.scheduler.allowed-failures`` + 1 workers is
recorded as an error (``worker_lost``). A record is written when its task's future completes, and
a future completes once, so no file is dropped or written twice.

Dask and distributed are the optional extra ``plancheck[dask]``; they are imported only here.
"""
from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import multiprocessing as mp
import os
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .config import Config
from .errors import ModelIntegrityError, PlancheckError

try:
    import distributed
except ImportError:  # the optional extra is not installed: the dask backend says so when asked for
    distributed = None

log = logging.getLogger(__name__)

# The error code of a file whose task kept killing the Dask workers that ran it.
WORKER_LOST = "worker_lost"
# Tasks in flight per worker thread: enough to keep every worker busy while the client writes,
# few enough that an archive of 100,000 files is never all held by the scheduler at once.
TASKS_PER_THREAD = 4
MIN_WINDOW = 16


class BackendError(PlancheckError):
    """A batch backend cannot run: Dask is missing, the scheduler is unreachable or lost, or a
    worker refused the model."""

    code = "backend"


@dataclass(frozen=True)
class ModelFiles:
    """A checked model as bytes (its card and artefact), to be sent once to each Dask worker.

    Workers need not see the client's models folder: they write these bytes to a private folder
    and load them through :func:`plancheck.card.load_model`, which checks the card's checksum,
    the artefact's SHA-256 and the worker's own language pipeline before reading an array.
    """

    name: str
    card_file: str
    card: bytes
    artefact_file: str
    artefact: bytes
    sha256: str

    @classmethod
    def read(cls, model: str | Path | None, directory: Path) -> "ModelFiles":
        """Check ``model`` here as a local run would (but for the pipeline, which workers check) and read it."""
        from .card import load_model, resolve

        _, card = load_model(model, directory)
        card_path = resolve(model, Path(directory))
        artefact_path = card_path.parent / str(card.artefact)
        data = artefact_path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != card.artefact_sha256:  # replaced between the check and the read
            raise ModelIntegrityError(f"{artefact_path}: changed while it was being loaded; try again")
        return cls(str(card.name), card_path.name, card_path.read_bytes(), artefact_path.name, data, digest)

    def load(self, config: Config):
        """Write the files to a private folder and load them with every check; returns a Scorer."""
        from .score import Scorer

        folder = Path(tempfile.mkdtemp(prefix="plancheck-model-"))
        try:
            (folder / self.card_file).write_bytes(self.card)
            (folder / self.artefact_file).write_bytes(self.artefact)
            return Scorer.load(str(folder / self.card_file), config)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


# On a Dask worker: the models loaded in this process, by artefact SHA-256.
_SCORERS: dict[str, object] = {}


def _allow_children() -> None:
    """Let this Dask worker fork plancheck's reader processes.

    Dask starts its workers as daemonic processes (``distributed.worker.daemon``), and
    multiprocessing refuses to start children from one. The flag only guards that check here:
    the nanny still ends the worker with its cluster, and a reader dies with its worker
    (runner.py sets its parent-death signal).
    """
    process = mp.current_process()
    if process.daemon:
        process.daemon = False


# Trusted text scored once on each worker, in process, so that every reader forked afterwards starts
# with warm caches (spaCy's, NumPy's, compiled patterns) instead of building and dropping them per file.
_WARM_UP = ("Serious and organised crime. The Head of Crime will appoint a named lead by 31 March 2010, "
            "funded with £120,000 from the force budget, and report progress to the board each quarter.")


def _restore_malloc() -> None:
    """Undo the allocator setting Dask gives its workers, for this worker and the readers it forks.

    A Dask nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``), which turns glibc's adaptive thresholds off: every
    large buffer is then mapped and unmapped from the system. pypdf churns such buffers on some
    files; the operator-flood PDF of the tests took 5 times as long to read (most of it system
    time). These are the values glibc adapts to by itself.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: the setting meant nothing here either
        return
    libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: glibc's adaptive maximum
    libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD: twice that, as glibc keeps it


def _scorer(files: ModelFiles):
    scorer = _SCORERS.get(files.sha256)
    if scorer is None:
        from .types import Section

        _allow_children()
        _restore_malloc()
        scorer = files.load(Config())
        scorer.assess([Section("serious_organised_crime", (), (), _WARM_UP)])
        import pypdf  # noqa: F401  (imported by each reader otherwise: once here, inherited by every fork)
        import docx  # noqa: F401
        _SCORERS[files.sha256] = scorer
        gc.freeze()  # the loaded model and pipeline stay shared with forked readers, not copied
    return scorer


if distributed is not None:
    class ModelPlugin(distributed.WorkerPlugin):
        """Loads the batch's model once on every Dask worker, including workers that join later."""

        idempotent = True  # a second batch with the same model on the same cluster loads nothing again

        def __init__(self, files: ModelFiles):
            self.files = files
            self.name = f"plancheck-model-{files.sha256[:16]}"

        def setup(self, worker) -> None:
            _scorer(self.files)


def score_file(path: str, config: Config, model: str) -> dict:
    """On a Dask worker: score one file in a forked, limited reader, as a local batch does.

    The reader outlives the task: each worker thread keeps one (see :func:`_reader`), as a local
    batch keeps ``--jobs`` readers for all its files.

    Args:
        path: the file, as the worker sees it.
        config: the batch's settings (timeout, memory cap, reading limits, required areas).
        model: the SHA-256 of the model artefact the batch's plugin loaded on this worker.
    """
    return _reader(model, config).read(path)


# On a Dask worker: each task thread's reader and what it was made for (model SHA-256, settings).
_READERS = threading.local()


def _reader(model: str, config: Config):
    """This thread's isolated reader for ``model`` and ``config``, forked on first use after the
    model is loaded.

    A thread keeps one reader across tasks and batches; a batch with other settings or another
    model replaces it (its settings are fixed when it is forked). A reader that a file killed or
    that ran out of time is replaced by runner.Reader on the next file. One reader per thread,
    not one shared, so that a worker with several threads reads as many files at once.
    """
    from . import runner
    from .score import Scorer, error_record, file_sha256

    config = config.replace(jobs=1)  # the client's --jobs means nothing to a reader
    key = (model, config)
    held = getattr(_READERS, "held", None)
    if held is not None and held[0] == key:
        return held[1]
    loaded = _SCORERS.get(model)
    if loaded is None:
        plugin = distributed.get_worker().plugins.get(f"plancheck-model-{model[:16]}")
        if plugin is None:
            raise BackendError(f"this Dask worker has no plancheck model {model[:12]}...; it joined without the "
                               f"batch's worker plugin")
        loaded = _scorer(plugin.files)
    scorer = Scorer(loaded.model, loaded.card, loaded.nlp, config)
    _allow_children()

    def error(p: str, code: str, message: str) -> "Record":
        return error_record(p, code, message, scorer.name, sha256=file_sha256(p, config.max_file_bytes))

    if held is not None:
        _READERS.held = None
        held[1].close()
    reader = runner.Reader(scorer.score_path, error, config)
    _READERS.held = (key, reader)
    return reader


def dask_records(paths: Iterable[str], config: Config, model: str | Path | None = None,
                 scheduler: str | None = None) -> Iterator[dict]:
    """Score ``paths`` on a Dask cluster; yield one record per path as tasks finish.

    Args:
        paths: files as the command was given them (records carry these paths).
        config: settings; ``jobs`` is the number of workers of a local cluster.
        model: the model name or card path (default: the current model).
        scheduler: a scheduler address such as ``tcp://host:8786``; None starts a local cluster
            of ``config.jobs`` worker processes for this batch.

    Raises:
        BackendError: Dask is not installed, the scheduler cannot be reached or was lost, or a
            worker refused the model.
    """
    if distributed is None:
        raise BackendError("the dask backend needs Dask: install the extra with `pip install 'plancheck[dask]'`")
    files = ModelFiles.read(model, config.models)
    paths = list(paths)
    if not paths:
        return
    with _client(scheduler, config.jobs) as client:
        plugin = ModelPlugin(files)
        try:
            client.register_plugin(plugin, name=plugin.name)
        except PlancheckError as exc:
            raise BackendError(f"a Dask worker could not load model {files.name}: {exc.message}") from None
        except Exception as exc:
            raise BackendError(f"a Dask worker could not load model {files.name} ({type(exc).__name__}: {exc})") from None
        # Workers of a cluster started here share this folder; others may not, so they get absolute paths.
        send = (lambda p: p) if scheduler is None else os.path.abspath
        yield from _stream(client, paths, config, files, send)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int):
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="30s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BackendError(f"could not reach the Dask scheduler at {scheduler} ({exc}); start one with "
                               f"`dask scheduler` and workers with `dask worker {scheduler}`") from None
        with client:
            yield client
        return
    # Dask reports every start and stop at INFO; a batch shows its warnings (a worker restarted) only.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    # On loopback only, and no fixed dashboard port that a second batch would collide with.
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0", silence_logs=logging.WARNING)
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


def _stream(client, paths: list[str], config: Config, files: ModelFiles, send) -> Iterator[dict]:
    from .score import error_record, file_sha256

    batch = uuid.uuid4().hex[:12]
    pending = list(reversed(paths))
    owner: dict = {}  # future -> the path as given
    finished = distributed.as_completed(loop=client.loop)
    window = _window(client)

    def submit() -> None:
        while pending and len(owner) < window:
            path = pending.pop()
            future = client.submit(score_file, send(path), config, files.sha256, pure=False,
                                   key=_key(batch, len(paths) - len(pending), path))
            owner[future] = path
            finished.add(future)

    submit()
    for n, future in enumerate(finished, start=1):
        path = owner.pop(future)
        try:
            record = future.result()
        except distributed.KilledWorker as exc:
            record = error_record(path, WORKER_LOST, f"{path}: the Dask workers that read it died "
                                  f"{exc.allowed_failures + 1} time(s); the file may crash readers beyond plancheck's "
                                  f"limits, or the workers ran out of memory", files.name,
                                  sha256=file_sha256(path, config.max_file_bytes))
        except Exception as exc:
            if future.cancelled() or client.status != "running":
                raise BackendError(f"lost the Dask scheduler with {len(owner) + len(pending) + 1} file(s) not scored "
                                   f"({type(exc).__name__}: {exc}); the records written are complete: rerun with "
                                   f"--output FILE --resume") from None
            record = error_record(path, "unreadable", f"{path}: the Dask task failed ({type(exc).__name__}: {exc})",
                                  files.name, sha256=file_sha256(path, config.max_file_bytes))
        future.release()
        sent = send(path)
        if sent != path:  # the worker was given an absolute path: the record names the file as the user did
            record = record.with_path(path)
        yield record
        if n % MIN_WINDOW == 0:
            window = _window(client)  # workers may have joined or left
        submit()


def _key(batch: str, number: int, path: str) -> str:
    """A task's key: unique to the batch, and naming its file for whoever watches the cluster's dashboard."""
    name = os.path.basename(path).encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
    return f"plancheck-{batch}-{number}-{name[:80]}"


def _window(client) -> int:
    try:
        threads = sum(client.nthreads().values())
    except Exception:  # a slow or busy scheduler: keep the smallest window
        threads = 0
    return max(MIN_WINDOW, TASKS_PER_THREAD * threads)
