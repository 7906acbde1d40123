"""Atomic checkpoint files, loaded with ``torch.load(weights_only=True)`` only."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from thoughtlab.errors import BadInput
from thoughtlab.fileio import atomic_writer
from thoughtlab.validate import refused_pickle


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, fsync, ``os.replace``.

    A crash mid-write leaves the previous checkpoint (or none), never a torn
    file.  ``state`` should hold only tensors, numbers, strings, lists and
    dicts so that :func:`load_checkpoint` can read it with ``weights_only``.
    """
    path = Path(path)
    with atomic_writer(path) as handle:
        torch.save(state, handle)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: no code is run).

    Raises:
        BadInput: the file is missing, truncated, corrupt or holds arbitrary objects.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"checkpoint {path} does not exist; check the path or start without it")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if refused_pickle(err):  # never pass on torch's advice to load it unsafely
            raise BadInput(f"checkpoint {path} is not a plain weights file (it holds pickled Python objects, which "
                           "thoughtlab never runs); convert it where it was made by saving only tensors, numbers "
                           "and strings with torch.save") from None
        raise BadInput(f"checkpoint {path} is corrupt or not a plain torch checkpoint (UnpicklingError); "
                       "delete it and rerun") from None
    except Exception as err:  # pickle, zip and torch errors all mean "unusable file"
        raise BadInput(
            f"checkpoint {path} is corrupt or not a plain torch checkpoint ({type(err).__name__}); delete it and rerun"
        ) from None
    if not isinstance(state, dict):
        raise BadInput(f"checkpoint {path} holds a {type(state).__name__}, not a dict; delete it and rerun")
    return state
