"""The one progress rule: a tqdm bar on an interactive terminal, quiet otherwise (and only on rank 0)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm import tqdm

from thoughtlab.train import distributed


def show_progress(requested: bool | None = None) -> bool:
    """Whether to draw a bar: ``requested`` when given, else whether stderr is a terminal; never off rank 0."""
    wanted = sys.stderr.isatty() if requested is None else bool(requested)
    return wanted and distributed.is_main()


def progress_bar(iterable: Iterable[Any] | None = None, *, desc: str | None = None, total: int | None = None,
                 initial: int = 0, show: bool | None = None, leave: bool = True) -> tqdm:
    """A tqdm bar under :func:`show_progress` (disabled bars cost nothing and print nothing)."""
    return tqdm(iterable, desc=desc, total=total, initial=initial, disable=not show_progress(show),
                leave=leave, dynamic_ncols=True)
