"""Model cards and model files: write and read the JSON card, hash, and load with checks.

A model is ``models/<name>.npz`` (arrays of numbers and strings, see lexical.py) with
``models/<name>.card.json`` (and a readable ``.card.md``). Loading checks, in order: that the
name stays inside the model folder, the card's own checksum, the artefact's SHA-256, the language
pipeline; then NumPy reads the arrays with ``allow_pickle=False``, so a model file cannot carry
code at all.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError, VersionDriftWarning

CURRENT_FILE = "CURRENT"
ARTEFACT_SUFFIX = ".npz"
# A model name: what `plancheck models` lists and CURRENT may hold (no path, nothing hidden).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class ModelCard:
    """What a model is, how it was trained and how well it does: the one shape of a model card.

    ``plancheck train`` builds it, ``save_model`` writes it (``<name>.card.json``, with its own
    checksum), ``read_card`` and ``load_model`` read it back; the command line, the reports and the
    workbench read the fields, never the JSON. The figures (``metrics``, ``baselines``,
    ``evidence``) are tables of numbers keyed by set and metric name, as ``plancheck.metrics``
    makes them. ``extra`` keeps fields of other plancheck versions so that a card reads and
    writes back unchanged (its checksum still holds).
    """

    name: str = ""
    created: str = ""
    plancheck_version: str = ""
    git: dict = field(default_factory=dict)
    training_data: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    threshold: dict = field(default_factory=dict)
    pipeline: dict = field(default_factory=dict)
    libraries: dict = field(default_factory=dict)
    python: str = ""
    metrics: dict = field(default_factory=dict)
    baselines: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    training_seconds: float | None = None
    promotion: dict = field(default_factory=dict)
    artefact: str = ""
    artefact_sha256: str = ""
    card_sha256: str = ""
    extra: dict = field(default_factory=dict)

    # The order fields are written in (the card reads top-down: what, from what, how, how well).
    _ORDER = ("plancheck_version", "created", "git", "training_data", "config", "model", "threshold", "pipeline",
              "libraries", "python", "metrics", "baselines", "evidence", "training_seconds", "promotion", "name",
              "artefact", "artefact_sha256", "card_sha256")

    @property
    def threshold_value(self) -> float:
        return float(self.threshold["value"])

    @property
    def pipeline_name(self) -> str | None:
        return self.pipeline.get("name")

    @property
    def promoted(self) -> bool:
        return bool(self.promotion.get("promoted"))

    @property
    def promotion_why(self) -> str:
        return str(self.promotion.get("why") or "")

    def label_metrics(self, split: str) -> dict:
        """Precision, recall, F1 ... of ``insufficient`` on ``split`` (``test``, ``blind_test``,
        ``out_of_writer``); cards written before the blind sets held them at the top of the split."""
        figures = self.metrics.get(split) or {}
        return figures.get("label", figures)

    def to_dict(self) -> dict:
        # A field left empty is not written (a card of another version reads and writes back the same).
        out = {name: getattr(self, name) for name in self._ORDER if getattr(self, name) not in ("", None, {})}
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ModelCard":
        if not isinstance(data, dict):
            raise ValueError("a model card is a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        for name in ("git", "training_data", "config", "model", "threshold", "pipeline", "libraries", "metrics",
                     "baselines", "evidence", "promotion"):
            if not isinstance(kwargs.get(name, {}), dict):
                raise ValueError(f"model card field {name!r} is not an object")
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known})

    def checksum(self) -> str:
        return _card_checksum(self.to_dict())

    def why_not_current(self, history: list[dict]) -> str:
        """Why this model is not the current one: replaced (by whom, when) or never promoted (and
        why), from the models folder's ``HISTORY.jsonl`` entries."""
        for entry in reversed(history):
            if entry.get("from") == self.name and entry.get("to") != self.name:
                return f"replaced by {entry.get('to')} on {str(entry.get('time', ''))[:10]}: {entry.get('why', '')}"
        if self.promotion and not self.promoted:
            return f"not promoted: {self.promotion_why}"
        return "not current"


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _card_checksum(card: dict) -> str:
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def synced_temp(path: Path, data: bytes, prefix: str | None = None) -> str:
    """``data`` in a new temporary file beside ``path``, flushed to disk, with the usual permissions.

    The caller renames or links it into place (and removes it on failure).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    tmp = synced_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(model: Any, card: ModelCard, directory: Path, name: str) -> Path:
    """Write the artefact, then the card (with the artefact's hash), each atomically."""
    from dataclasses import replace

    data = model.save(None)
    artefact = directory / f"{name}{ARTEFACT_SUFFIX}"
    atomic_write(artefact, data)
    card = replace(card, name=name, artefact=artefact.name, artefact_sha256=hashlib.sha256(data).hexdigest(),
                   card_sha256="")
    card.card_sha256 = card.checksum()
    atomic_write(directory / f"{name}.card.json", (json.dumps(card.to_dict(), indent=2, sort_keys=False) + "\n").encode())
    from .report import render_card_markdown
    atomic_write(directory / f"{name}.card.md", render_card_markdown(card).encode())
    return artefact


def read_card(path: Path) -> ModelCard:
    """The card at ``path`` after its checksum check."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"{path}: model card not found") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{path}: model card is not valid JSON; it was damaged or edited") from exc
    if not isinstance(card, dict) or card.get("card_sha256") != _card_checksum(card):
        raise ModelIntegrityError(f"{path}: model card checksum does not match its content; "
                                  f"the card was edited after training. Retrain with `plancheck train`.")
    try:
        return ModelCard.from_dict(card)
    except (TypeError, ValueError) as exc:
        raise ModelIntegrityError(f"{path}: is not a plancheck model card ({exc})") from None


def current_name(directory: Path) -> str | None:
    """The name in ``directory/CURRENT``; refused unless it is a plain model name in a regular file."""
    pointer = directory / CURRENT_FILE
    if pointer.is_symlink() or (pointer.exists() and not pointer.is_file()):
        raise ModelIntegrityError(f"{pointer}: is not a regular file; it should hold the current model's name")
    if not pointer.is_file():
        return None
    with open(pointer, "rb") as fh:
        raw = fh.read(256)
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        name = None
    if not name:
        return None
    if not _NAME.match(name):
        raise ModelIntegrityError(f"{pointer}: does not hold a model name (a name has letters, digits, '.', '_' "
                                  f"and '-' only); set it with `plancheck models promote NAME`")
    return name


HISTORY_FILE = "HISTORY.jsonl"


def set_current(directory: Path, name: str, why: str = "") -> None:
    """Point CURRENT at ``name`` and append the change to ``HISTORY.jsonl`` (what rollback reads)."""
    import datetime as dt

    try:
        previous = current_name(directory)
    except ModelError:
        previous = None
    atomic_write(directory / CURRENT_FILE, (name + "\n").encode())
    entry = {"time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "from": previous, "to": name,
             "why": why}
    with open(directory / HISTORY_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


def history(directory: Path) -> list[dict]:
    path = directory / HISTORY_FILE
    out = []
    if path.is_file() and not path.is_symlink():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
    return out


def promote_by_hand(directory: Path, name: str) -> str | None:
    """Make ``name`` current after checking that it loads; returns the model it replaced."""
    directory = Path(directory)
    if not _NAME.match(name):
        raise ModelNotFoundError(f"{name}: not a model name; see `plancheck models`")
    load_model(name, directory)
    previous = current_name(directory)
    set_current(directory, name, "promoted by hand")
    return previous


def rollback(directory: Path) -> tuple[str, str]:
    """Make the model that was current before the latest change current again."""
    directory = Path(directory)
    current = current_name(directory)
    for entry in reversed(history(directory)):
        previous = entry.get("from")
        if (entry.get("to") == current and isinstance(previous, str) and previous != current
                and _NAME.match(previous)):
            load_model(previous, directory)
            set_current(directory, previous, f"rollback from {current}")
            return previous, str(current)
    raise ModelNotFoundError(f"{directory}: no earlier current model to roll back to (see {HISTORY_FILE})")


def resolve(model: str | Path | None, directory: Path) -> Path:
    """The card path of ``model``: a name in ``directory``, an explicit card path, or the current model."""
    if model is None:
        name = current_name(directory)
        if not name:
            raise ModelNotFoundError(f"no model in {directory}/ (no {CURRENT_FILE} file); train one with "
                                     f"`plancheck train` (or `python train.py`)")
        return directory / f"{name}.card.json"
    text = str(model)
    if text.endswith(".card.json"):
        return Path(text)
    if text.endswith(ARTEFACT_SUFFIX):
        path = Path(text)
        return path.with_name(path.name[: -len(ARTEFACT_SUFFIX)] + ".card.json")
    if not _NAME.match(text):
        raise ModelNotFoundError(f"{text}: give a model name from `plancheck models` or the path of its .card.json")
    return directory / f"{text}.card.json"


def load_model(model: str | Path | None = None, directory: str | Path = "models",
               pipeline: str | None = None) -> tuple[Any, ModelCard]:
    """Load a model and its card after every integrity check.

    Raises:
        ModelNotFoundError: no such model, or no current model (says how to train one).
        ModelIntegrityError: the card or artefact was changed after training, or is not a model.
        ModelMismatchError: the model needs another language pipeline.
    """
    from .lexical import SectionModel

    directory = Path(directory)
    card_path = resolve(model, directory)
    card = read_card(card_path)
    artefact_name = str(card.artefact)
    artefact = card_path.parent / artefact_name
    if not _NAME.match(artefact_name) or not artefact.is_file() or artefact.is_symlink():
        raise ModelNotFoundError(f"{artefact}: model artefact not found beside its card")
    digest = sha256_file(artefact)
    if digest != card.artefact_sha256:
        raise ModelIntegrityError(f"{artefact}: SHA-256 {digest[:12]}... does not match its card "
                                  f"({card.artefact_sha256[:12]}...); the file was changed after "
                                  f"training and will not be loaded")
    if pipeline is not None and card.pipeline_name != pipeline:
        raise ModelMismatchError(f"{card_path}: trained with the language pipeline "
                                 f"{card.pipeline_name!r} but {pipeline!r} is loaded; install "
                                 f"the same pipeline (make demo) or retrain with this one")
    try:
        obj = SectionModel.load(artefact)
    except ValueError as exc:
        raise ModelIntegrityError(f"{artefact}: refuses to load: {exc}") from None
    _warn_drift(card)
    return obj, card


def _warn_drift(card: ModelCard) -> None:
    from importlib.metadata import PackageNotFoundError, version

    for package, trained in card.libraries.items():
        try:
            now = version(package)
        except PackageNotFoundError:
            continue
        if now != trained:
            warnings.warn(f"{package} {now} is installed; the model was trained with {trained}",
                          VersionDriftWarning, stacklevel=3)


@dataclass(frozen=True)
class ModelEntry:
    """One model of a models folder as ``plancheck models`` and the workbench list it: its card,
    or the reason it cannot be read (``error``), and whether it is the current model."""

    name: str
    card: ModelCard | None
    current: bool = False
    error: str = ""


def list_models(directory: str | Path = "models") -> list[ModelEntry]:
    directory = Path(directory)
    try:
        current = current_name(directory)
    except ModelError:
        current = None
    out = []
    for path in sorted(directory.glob("*.card.json")):
        name = path.name[: -len(".card.json")]
        try:
            card = read_card(path)
        except ModelError as exc:
            out.append(ModelEntry(name, None, False, exc.message))
            continue
        out.append(ModelEntry(card.name or name, card, card.name == current))
    return out
