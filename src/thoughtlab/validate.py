"""Checks of what a user gives: numbers, seeds, output paths, weights files and JSON-typed configs.

Each check returns the cleaned value or raises :class:`~thoughtlab.errors.UserError` with one line
that names the value and says how to fix it.  Output paths are checked *before* any work, so a long
computation is never lost to an unwritable ``--json``; :func:`os_error_line` turns any later
``OSError`` into one line naming the path.  ``argtype`` adapts a check for ``argparse``.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from thoughtlab.errors import BadInput, UserError

SEED_LIMIT = 2**32  # numpy and torch seeds are unsigned 32-bit at most (np.random.seed, torch workers)


# ------------------------------------------------------------------------------------------ numbers

def number(value: Any, name: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float within [low, high] (open ends where asked); bool and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not _is_numpy_number(value):
        raise BadInput(f"{name} must be a number, got {value!r}; write it without quotes")
    try:
        value = float(value)
    except OverflowError:  # an integer beyond float range, e.g. 10**400 in a JSON file
        value = math.inf
    if not math.isfinite(value):
        raise BadInput(f"{name} must be a finite number, got {value}")
    if low is not None and (value < low or low_open and value == low):
        raise BadInput(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and (value > high or high_open and value == high):
        raise BadInput(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value:g}")
    return value


def integer(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int within [low, high]; bool, floats (even 3.0) and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int) and not _is_numpy_integer(value):
        raise BadInput(f"{name} must be an integer, got {value!r}; write a whole number without quotes")
    value = int(value)
    if low is not None and value < low:
        raise BadInput(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise BadInput(f"{name} must be <= {high}, got {value}")
    return value


def seed(value: Any, name: str = "--seed") -> int:
    """A seed: an integer with 0 <= seed < 2**32."""
    if isinstance(value, bool) or not isinstance(value, int) and not _is_numpy_integer(value) \
            or not 0 <= value < SEED_LIMIT:
        raise BadInput(f"{name} must be a whole number with 0 <= seed < 2**32 = {SEED_LIMIT}, got {value!r}")
    return int(value)


def _is_numpy_number(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "dtype", None) is not None and value.dtype.kind in "iuf"


def _is_numpy_integer(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "dtype", None) is not None and value.dtype.kind in "iu"


def argtype(check: Callable[[Any], Any], parse: Callable[[str], Any] = int) -> Callable[[str], Any]:
    """An ``argparse`` ``type=``: ``parse`` the text, then ``check`` it; failures become one-line usage errors."""
    def convert(text: str) -> Any:
        try:
            return check(parse(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if parse is int else ' number'}") from None
        except UserError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = getattr(check, "__name__", "value")
    return convert


# ------------------------------------------------------------------------------------------ output paths

def os_error_line(exc: OSError) -> str:
    """One line for an ``OSError``: the path(s) involved and what went wrong."""
    where = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None) or "a file"
    return (f"{where}: {exc.strerror or type(exc).__name__}; check the path, its permissions and the free disk "
            "space")


def output_dir(path: str | os.PathLike, flag: str) -> Path:
    """Check, before any work, that folder ``path`` exists or can be made and that files can be written in it.

    Nothing is created: the test file goes into the nearest existing folder and is removed at once.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is a file, not a folder; pass a folder path")
    existing = next((p for p in (path, *path.absolute().parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        raise UserError(f"{flag} {path} lies under {existing}, which is a file; pass a folder path")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise UserError(f"{flag} {path} is not writable ({exc.strerror or exc}); pass a writable folder") from None
    return path


def output_file(path: str | os.PathLike, flag: str) -> Path:
    """Check, before any work, that file ``path`` can be written (a missing folder is made by the write)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{flag} {path} is a folder; pass a file path, e.g. {path / 'out'}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{flag} {path} is not writable; pass another file")
    output_dir(path.parent if str(path.parent) else Path("."), f"{flag} {path}: folder")
    return path


# ------------------------------------------------------------------------------------------ weights files

def refused_pickle(exc: BaseException) -> bool:
    """True when ``torch.load(weights_only=True)`` refused a file for holding Python objects (a class, a call),
    False for bytes that are not a pickle at all (torch says "Unsupported operand" for those)."""
    import pickle

    return isinstance(exc, pickle.UnpicklingError) and "Unsupported operand" not in str(exc)


def torch_weights(path: str | os.PathLike, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` with one-line errors.

    A file holding pickled Python objects is refused without running them; the message says how to
    make a plain file (tensors only), never to load it unsafely.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{what} {path} does not exist; check the path")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not refused_pickle(exc):
            raise BadInput(f"{what} {path} cannot be read: it is truncated or not a torch file (UnpicklingError); "
                           "use an intact file written by torch.save") from None
        raise BadInput(f"{what} {path} is not a plain weights file (it holds pickled Python objects, which "
                       "thoughtlab never runs); convert it where it was made by saving only tensors, e.g. "
                       "torch.save(model.state_dict(), PATH)") from None
    except Exception as exc:  # zip, EOF and torch errors: a truncated or foreign file
        raise BadInput(f"{what} {path} cannot be read: it is truncated or not a torch file ({type(exc).__name__}); "
                       "use an intact file written by torch.save") from None


# ------------------------------------------------------------------------------------------ JSON configs

def json_typed(value: Any, kind: type, name: str) -> Any:
    """``value`` checked against a JSON field type: int (not bool, not 2.0), float (int accepted), bool, str."""
    if kind is float:
        return number(value, name)
    if kind is int:
        return integer(value, name)
    if kind is bool and not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false, got {value!r}")
    if kind is str and not isinstance(value, str):
        raise BadInput(f"{name} must be a string, got {value!r}")
    return value
