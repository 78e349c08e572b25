"""tessera's exceptions: every error carries the same one-line message as the tessera command."""

from . import _tessera


class Error(Exception):
    """Any error tessera reports."""


class ArgumentError(Error, ValueError):
    """A wrong argument: an unknown backend, a bad tile size, a bad dim range, ..."""


class ShapeError(ArgumentError):
    """An input of the wrong count, rank, size, element type or layout, or a size outside the model's range."""


class InvalidModelError(Error):
    """A model file or source model that is malformed, or uses what tessera does not support."""


class TesseraIOError(Error, OSError):
    """A file that could not be read or written."""


class MissingFileError(TesseraIOError, FileNotFoundError):
    """A model or image file that does not exist."""


class CancelledError(Error):
    """The run was stopped (e.g. by Ctrl-C)."""


class TesseraMemoryError(Error, MemoryError):
    """The machine could not give the memory a run needs (its arena, planned at the model's upper bound)."""


_CLASSES = {
    "invalid argument": ArgumentError,
    "input count mismatch": ShapeError,
    "rank mismatch": ShapeError,
    "static dim mismatch": ShapeError,
    "dim out of range": ShapeError,
    "dim not a multiple": ShapeError,
    "dtype mismatch": ShapeError,
    "invalid model": InvalidModelError,
    "unsupported": InvalidModelError,
    "I/O error": TesseraIOError,
    "invalid image": InvalidModelError,
    "cancelled": CancelledError,
    "out of memory": TesseraMemoryError,
    "internal error": Error,
}
assert set(_CLASSES) == set(_tessera.error_names), "an error code without an exception class"
_tessera.register_errors(_CLASSES)
