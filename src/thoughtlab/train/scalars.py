"""Scalar logging: one JSON object per line, optionally mirrored to TensorBoard."""

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


def _plain(value: Any) -> float | None:
    """A JSON number; NaN and infinities become ``null`` so every line stays valid JSON."""
    number = float(value.item() if hasattr(value, "item") else value)
    return number if math.isfinite(number) else None


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
        values = {name: _plain(value) for name, value in scalars.items()}
        self._file.write(json.dumps({"step": step, **values}) + "\n")
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
