"""Model cards and safe model files: write and read the JSON card, hash, and load with checks.

A model is a pair ``models/<name>.joblib`` + ``models/<name>.card.json`` (plus ``.card.md``).
Loading checks, in order: the card's own checksum, the artefact's SHA-256 (BEFORE any byte is
unpickled), the language pipeline, the feature registry; then it unpickles with an allow-list
of classes, so even an artefact that passed the hash check cannot run arbitrary code.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from .errors import ModelError, ModelIntegrityError, ModelMismatchError, ModelNotFoundError, VersionDriftWarning

CURRENT_FILE = "CURRENT"
# Modules whose classes a model artefact may contain. Only classes: a function can run code
# (numpy.testing's runstring execs a string; builtins.getattr reaches any module's globals).
# A model is saved as plancheck.linear objects holding NumPy arrays (no scikit-learn objects).
_ALLOWED_PREFIXES = ("plancheck.linear",)
_ALLOWED_MODULES = {"numpy", "numpy.dtypes", "numpy._core.multiarray", "numpy.core.multiarray", "numpy._core.numeric",
                    "numpy.core.numeric", "numpy.random._pickle", "collections", "copyreg", "_codecs"}
_ALLOWED_CLASSES = {("joblib.numpy_pickle", "NumpyArrayWrapper")}
# The functions arrays, scalars and plain objects are rebuilt with.
_ALLOWED_FUNCTIONS = {("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
                      ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
                      ("numpy.random._pickle", "__bit_generator_ctor"), ("numpy.random._pickle", "__generator_ctor"),
                      ("numpy.random._pickle", "__randomstate_ctor"), ("copyreg", "_reconstructor"),
                      ("_codecs", "encode")}
# Classes whose constructor creates or truncates a file.
_REFUSED_CLASSES = {("numpy", "memmap")}
_ALLOWED_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "int", "float", "str", "bool", "bytes", "bytearray",
                     "slice", "complex", "object"}


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _card_checksum(card: dict) -> str:
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_model(model: Any, card: dict, directory: Path, name: str) -> Path:
    """Write the artefact, then the card (with the artefact's hash), each atomically."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=0)
    data = buffer.getvalue()
    artefact = directory / f"{name}.joblib"
    atomic_write(artefact, data)
    card = dict(card, name=name, artefact=artefact.name, artefact_sha256=hashlib.sha256(data).hexdigest())
    card["card_sha256"] = _card_checksum(card)
    atomic_write(directory / f"{name}.card.json", (json.dumps(card, indent=2, sort_keys=False) + "\n").encode())
    from .report import render_card_markdown
    atomic_write(directory / f"{name}.card.md", render_card_markdown(card).encode())
    return artefact


def read_card(path: Path) -> dict:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"{path}: model card not found") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{path}: model card is not valid JSON; it was damaged or edited") from exc
    if not isinstance(card, dict) or card.get("card_sha256") != _card_checksum(card):
        raise ModelIntegrityError(f"{path}: model card checksum does not match its content; "
                                  f"the card was edited after training. Retrain with `plancheck train`.")
    return card


def current_name(directory: Path) -> str | None:
    pointer = directory / CURRENT_FILE
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        return name or None
    return None


def set_current(directory: Path, name: str) -> None:
    atomic_write(directory / CURRENT_FILE, (name + "\n").encode())


def resolve(model: str | Path | None, directory: Path) -> Path:
    """The card path of ``model``: a name in ``directory``, an explicit path, or the current model."""
    if model is None:
        name = current_name(directory)
        if not name:
            raise ModelNotFoundError(f"no model in {directory}/ (no {CURRENT_FILE} file); train one with "
                                     f"`plancheck train` (or `python train.py`)")
        return directory / f"{name}.card.json"
    text = str(model)
    path = Path(text)
    if text.endswith(".card.json"):
        return path
    if text.endswith(".joblib"):
        return path.with_name(path.name[: -len(".joblib")] + ".card.json")
    if os.sep in text or "/" in text:
        raise ModelNotFoundError(f"{text}: give a model name from `plancheck models` or the path of its .card.json")
    return directory / f"{text}.card.json"


class _SafeUnpickler:
    """Build joblib's unpickler with an allow-list of importable classes."""

    @staticmethod
    def load(path: Path) -> Any:
        from joblib.numpy_pickle import NumpyUnpickler

        class Restricted(NumpyUnpickler):
            def find_class(self, module: str, name: str):
                if module == "builtins" and name in _ALLOWED_BUILTINS:
                    return super().find_class(module, name)
                if (module, name) in _ALLOWED_FUNCTIONS or (module, name) in _ALLOWED_CLASSES:
                    return super().find_class(module, name)
                # A dotted name walks attributes (Pipeline.__init__.__globals__ ...): refused.
                if "." not in name and (module.startswith(_ALLOWED_PREFIXES) or module in _ALLOWED_MODULES):
                    found = super().find_class(module, name)
                    home = str(getattr(found, "__module__", ""))
                    # A class defined in an allowed module, not one imported into it from elsewhere.
                    if (isinstance(found, type) and (home.startswith(_ALLOWED_PREFIXES) or home in _ALLOWED_MODULES)
                            and (home, found.__name__) not in _REFUSED_CLASSES):
                        return found
                raise ModelIntegrityError(f"{path}: refuses to load {module}.{name}: not a class a plancheck "
                                          f"model may contain (a tampered or malicious artefact?)")

        with open(path, "rb") as fh:
            unpickler = Restricted(str(path), fh, ensure_native_byte_order=True)
            try:
                return unpickler.load()
            except ModelIntegrityError:
                raise
            except Exception as exc:
                raise ModelIntegrityError(f"{path}: cannot be read as a plancheck model ({type(exc).__name__})") from exc


def load_model(model: str | Path | None = None, directory: str | Path = "models",
               pipeline: str | None = None) -> tuple[Any, dict]:
    """Load a model and its card after every integrity check.

    Raises:
        ModelNotFoundError: no such model, or no current model (says how to train one).
        ModelIntegrityError: the card or artefact was changed after training.
        ModelMismatchError: the model needs another language pipeline or feature registry.
    """
    from . import features

    directory = Path(directory)
    card_path = resolve(model, directory)
    card = read_card(card_path)
    artefact = card_path.parent / str(card.get("artefact", ""))
    if not artefact.is_file() or artefact.parent != card_path.parent:
        raise ModelNotFoundError(f"{artefact}: model artefact not found beside its card")
    digest = sha256_file(artefact)
    if digest != card.get("artefact_sha256"):
        raise ModelIntegrityError(f"{artefact}: SHA-256 {digest[:12]}... does not match its card "
                                  f"({str(card.get('artefact_sha256'))[:12]}...); the file was changed after "
                                  f"training and will not be loaded")
    if pipeline is not None and card.get("pipeline", {}).get("name") != pipeline:
        raise ModelMismatchError(f"{card_path}: trained with the language pipeline "
                                 f"{card.get('pipeline', {}).get('name')!r} but {pipeline!r} is loaded; install "
                                 f"the same pipeline (make demo) or retrain with this one")
    if card.get("features", {}).get("registry") != features.registry_signature():
        raise ModelMismatchError(f"{card_path}: trained with another feature registry; retrain with `plancheck train`")
    obj = _SafeUnpickler.load(artefact)
    _warn_drift(card)
    return obj, card


def _warn_drift(card: dict) -> None:
    from importlib.metadata import PackageNotFoundError, version

    for package, trained in card.get("libraries", {}).items():
        try:
            now = version(package)
        except PackageNotFoundError:
            continue
        if now != trained:
            warnings.warn(f"{package} {now} is installed; the model was trained with {trained}",
                          VersionDriftWarning, stacklevel=3)


def list_models(directory: str | Path = "models") -> list[dict]:
    directory = Path(directory)
    current = current_name(directory)
    out = []
    for path in sorted(directory.glob("*.card.json")):
        try:
            card = read_card(path)
        except ModelError as exc:
            out.append({"name": path.name[: -len(".card.json")], "error": exc.message, "current": False})
            continue
        card["current"] = card.get("name") == current
        out.append(card)
    return out
