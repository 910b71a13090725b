"""The PlancheckError hierarchy and plancheck's warning classes.

Every error a user can meet has a stable ``code`` (used in batch records and triage logs) and a
plain-English message that names the file and, where there is one, the fix.
"""
from __future__ import annotations


class PlancheckError(Exception):
    """Base class of every error plancheck raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


# Ingestion: one class per stable code.
class IngestError(PlancheckError):
    """A submission could not be read."""

    code = "unreadable"


class UnsupportedTypeError(IngestError):
    code = "unsupported_type"


class EmptyFileError(IngestError):
    code = "empty"


class EncryptedError(IngestError):
    code = "encrypted"


class NoTextError(IngestError):
    code = "no_text"


class UnreadableError(IngestError):
    code = "unreadable"


class TooLargeError(IngestError):
    code = "too_large"


class TooManyPagesError(IngestError):
    code = "too_many_pages"


class LimitExceededError(IngestError):
    """A parser hit a resource limit (memory, recursion, decompression) on this file."""

    code = "limit_exceeded"


class NotAFileError(IngestError):
    """The path is a directory, FIFO, socket or device, or is missing."""

    code = "not_a_file"


# Corpus, configuration and models.
class CorpusError(PlancheckError, ValueError):
    code = "corpus"


class ConfigError(PlancheckError, ValueError):
    """A setting is unknown or out of range (a usage error: exit code 2)."""

    code = "config"


class UsageError(PlancheckError, ValueError):
    """Options that contradict each other, such as ``--format table -o scores.csv`` (exit code 2)."""

    code = "usage"


class OutputError(PlancheckError):
    """An output file cannot be written or appended to as asked."""

    code = "output"


class ModelError(PlancheckError):
    code = "model"


class ModelNotFoundError(ModelError, FileNotFoundError):
    code = "model_not_found"


class ModelIntegrityError(ModelError):
    """The artefact's bytes do not match its card: it was changed after training."""

    code = "model_integrity"


class ModelMismatchError(ModelError):
    """The model was trained with another language pipeline or feature registry."""

    code = "model_mismatch"


class PlancheckWarning(UserWarning):
    """Base class of plancheck's warnings: something the user should look at."""


class PipelineFallbackWarning(PlancheckWarning):
    """The pinned English pipeline is absent; the rule-based fallback is in use."""


class VersionDriftWarning(PlancheckWarning):
    """A library version differs from the one the model was trained with."""
