"""tessera: run image models on any size in a declared range from one compiled file, whole or in
exact tiles.

    m = tessera.load("model.tsr")          # once
    y = m(x)                               # any size in range: a NumPy array or a torch CPU tensor
"""

from . import _tessera
from ._compile import Dim, compile, export
from ._module import MethodMeta, Module, backends, load, run_image
from .errors import (ArgumentError, CancelledError, Error, InvalidModelError, MissingFileError, ShapeError,
                     TesseraIOError, TesseraMemoryError)

__version__ = _tessera.__version__
__all__ = ["Dim", "compile", "export", "load", "backends", "run_image", "Module", "MethodMeta", "Error", "ArgumentError", "ShapeError",
           "InvalidModelError", "TesseraIOError", "MissingFileError", "CancelledError",
           "TesseraMemoryError"]
