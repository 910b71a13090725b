"""One frozen Config: defaults in code, then a TOML file, then command-line flags."""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .areas import REQUIRED_AREAS, AREA_KEYS
from .errors import ConfigError

DEFAULT_CONFIG_FILE = "plancheck.toml"
# Where a batch is scored: here, in isolated worker processes, or on a Dask cluster (backends.py).
BACKENDS = ("local", "dask")
# The project folder that holds the bundled models/ and corpus/, wherever a command is run from.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_models() -> Path:
    """``$PLANCHECK_MODELS``, else the bundled ``models/`` folder of the project."""
    return Path(os.environ.get("PLANCHECK_MODELS") or PROJECT_ROOT / "models")


def default_corpus() -> Path:
    """``$PLANCHECK_CORPUS``, else the project's ``corpus/`` folder."""
    return Path(os.environ.get("PLANCHECK_CORPUS") or PROJECT_ROOT / "corpus")


@dataclass(frozen=True)
class Config:
    """Settings for reading, judging and isolating submissions.

    Attributes:
        required_areas: areas a plan must contain (default: the seven areas of *Get Smart*).
        max_file_bytes: largest file read (``too_large`` beyond it).
        max_pages: most pages read (``too_many_pages`` beyond it).
        max_chars: most extracted characters kept (``limit_exceeded`` beyond it).
        max_docx_uncompressed: cap on the total uncompressed size of a .docx.
        max_docx_ratio: cap on any member's compression ratio in a .docx.
        timeout: wall-clock seconds allowed to read and judge one file in its worker.
        memory_mb: address-space cap of a worker process, in MiB.
        jobs: worker processes for batches.
        model_dir: where models live (empty: ``$PLANCHECK_MODELS`` or the bundled ``models/``).
        settle: seconds a file in a triage inbox must stay unchanged before it is taken.
    """

    required_areas: tuple[str, ...] = REQUIRED_AREAS
    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 2000
    max_chars: int = 5_000_000
    max_docx_uncompressed: int = 200 * 1024 * 1024
    max_docx_ratio: float = 200.0
    timeout: float = 60.0
    memory_mb: int = 2048
    jobs: int = 1
    model_dir: str = ""
    settle: float = 2.0

    @property
    def models(self) -> Path:
        """The model folder in force."""
        return Path(self.model_dir) if self.model_dir else default_models()

    def replace(self, **changes: Any) -> "Config":
        """A copy with ``changes`` applied (``None`` values are ignored) and validated."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}; expected one of "
                              f"{[f.name for f in dataclasses.fields(self)]}")
        if "required_areas" in changes:
            areas = tuple(changes["required_areas"])
            bad = [a for a in areas if a not in AREA_KEYS]
            if bad:
                raise ConfigError(f"unknown area(s) {bad} in required_areas; expected from {list(AREA_KEYS)}")
            changes["required_areas"] = areas
        new = dataclasses.replace(self, **changes)
        for name in ("max_file_bytes", "max_pages", "max_chars", "timeout", "memory_mb", "jobs"):
            if getattr(new, name) <= 0:
                raise ConfigError(f"setting {name} must be positive, got {getattr(new, name)!r}")
        return new


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Defaults, then ``path`` (or ./plancheck.toml when present), then ``overrides``."""
    config = Config()
    file = Path(path) if path else Path(DEFAULT_CONFIG_FILE)
    if path and not file.is_file():
        raise ConfigError(f"{file}: config file not found")
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML ({exc})") from exc
        config = config.replace(**data.get("plancheck", data))
    return config.replace(**overrides)
