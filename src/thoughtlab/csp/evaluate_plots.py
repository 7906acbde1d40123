"""Miss rate against false positives per image (log-log), the standard Caltech/CityPersons plot (Dollár et al. 2012, Fig. 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from thoughtlab.csp.evaluate import Evaluation, SubsetResult

_LIMITS = (2e-4, 50.0, 0.035, 1.0)   # dbEval's axis limits [fppi min, max, miss rate min, max]


def draw_curve(ax: Any, fppi: Any, miss_rate: Any, mr2: float | None, label: str,
               reference_fppi: Any, miss_rate_at_references: Any) -> None:
    """Step curve of the operating points, starting at (FPPI→0, miss rate 1), with the 9 reference points marked.

    Takes plain arrays, so curves saved as JSON (e.g. a study's outcome) draw the same as a :class:`SubsetResult`.
    """
    fppi = np.concatenate([[_LIMITS[0]], np.maximum(np.asarray(fppi, dtype=float), _LIMITS[0])])
    miss = np.concatenate([[1.0], np.asarray(miss_rate, dtype=float)])
    shown = "n/a" if mr2 is None else f"{100 * mr2:.2f}%"
    line, = ax.step(fppi, np.maximum(miss, _LIMITS[2]), where="post", label=f"{shown} {label}")
    ax.plot(reference_fppi, np.maximum(miss_rate_at_references, _LIMITS[2]), "o", color=line.get_color(),
            markersize=3)


def _draw_curve(ax: Any, result: SubsetResult, label: str) -> None:
    draw_curve(ax, result.fppi, result.miss_rate, result.mr2, label, result.reference_fppi,
               result.miss_rate_at_references)


def style_axes(ax: Any, title: str) -> None:
    """dbEval's log-log axes, ticks and limits, with a legend."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(_LIMITS[0], _LIMITS[1])
    ax.set_ylim(_LIMITS[2], _LIMITS[3])
    ticks = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.64, 0.8, 1.0]
    ax.set_yticks(ticks, [f"{t:.2f}".lstrip("0") if t < 1 else "1" for t in ticks])
    ax.minorticks_off()
    ax.grid(True, which="major", alpha=0.4)
    ax.set_xlabel("false positives per image")
    ax.set_ylabel("miss rate")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)


def plot_subsets(evaluation: Evaluation, title: str = "") -> Any:
    """One panel per subset of one evaluation; the legend gives MR⁻²."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(evaluation.subsets)
    cols = min(4, max(1, len(names)))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        result = evaluation.subsets[name]
        _draw_curve(ax, result, name)
        style_axes(ax, f"{name} ({result.n_positives} people)")
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_comparison(evaluations: Mapping[str, Evaluation], subset: str = "Reasonable", title: str = "") -> Any:
    """Several detectors on one subset, one curve each (labelled by the mapping's keys)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.2))
    for label, evaluation in evaluations.items():
        _draw_curve(ax, evaluation.subsets[subset], label)
    style_axes(ax, title or subset)
    fig.tight_layout()
    return fig
