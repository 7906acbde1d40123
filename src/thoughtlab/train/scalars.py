"""Scalar logging: one JSON object per line (non-finite numbers as ``null``), optionally mirrored to TensorBoard.

:func:`jsonl_line` is the one place a record becomes a line; :class:`ScalarLogger` (training) and
:func:`append_jsonl` (run records, one open per line so that parallel seeds can share a file) both use it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def _tensorboard_writer(log_dir: str | os.PathLike | None) -> Any:
    """A ``SummaryWriter`` when a folder is given and ``tensorboard`` is installed; else ``None``."""
    if log_dir is None:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional: JSONL alone is the record
        return None
    return SummaryWriter(log_dir=str(log_dir))


def _number(value: Any) -> float | None:
    """A float (0-d tensors and NumPy scalars too); NaN and infinities become ``None`` (JSON ``null``)."""
    number = float(value.item() if hasattr(value, "item") else value)
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """``None``, strings, booleans and ints as they are; any other number through :func:`_number`."""
    return value if value is None or isinstance(value, (str, int)) else _number(value)


def jsonl_line(record: dict[str, Any]) -> str:
    """``record`` as one line of strict JSON (``allow_nan=False``: no bare ``NaN``), newline included."""
    return json.dumps({key: _plain(value) for key, value in record.items()}, allow_nan=False) + "\n"


def append_jsonl(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append :func:`jsonl_line` of ``record`` to ``path`` in one write (open, append, close)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(jsonl_line(record))


class ScalarLogger:
    """Append ``{"step": step, name: value, ...}`` lines to ``path`` (flushed at once).

    With ``tensorboard_dir`` the same scalars also go to a TensorBoard
    ``SummaryWriter`` -- only when the ``tensorboard`` package is importable;
    otherwise that mirror is skipped silently (the JSONL file is the record).
    ``log(step=None, ...)`` numbers the line by the count of earlier calls.
    Non-finite values are written as ``null``.  Usable as a context manager.
    """

    def __init__(self, path: str | os.PathLike, tensorboard_dir: str | os.PathLike | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._writer = _tensorboard_writer(tensorboard_dir)
        self._calls = 0

    @property
    def tensorboard(self) -> bool:
        """Whether scalars are also mirrored to TensorBoard."""
        return self._writer is not None

    def log(self, step: int | None = None, **scalars: Any) -> None:
        """Write one line with ``step`` and the given scalars (floats, ints or 0-d tensors)."""
        step = self._calls if step is None else int(step)
        self._calls += 1
        values = {name: _number(value) for name, value in scalars.items()}
        self._file.write(jsonl_line({"step": step, **values}))
        self._file.flush()
        if self._writer is not None:
            for name, value in values.items():
                if value is not None:
                    self._writer.add_scalar(name, value, step)
            self._writer.flush()

    __call__ = log

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        if self._writer is not None:
            self._writer.close()

    def __enter__(self) -> "ScalarLogger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
