"""Miss rate against false positives per image (log-log), the standard Caltech/CityPersons plot (Dollár et al. 2012, Fig. 6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from thoughtlab.csp.evaluate import Evaluation, SubsetResult

_LIMITS = (2e-4, 50.0, 0.035, 1.0)   # dbEval's axis limits [fppi min, max, miss rate min, max]


def _draw_curve(ax: Any, result: SubsetResult, label: str) -> None:
    """Step curve of the operating points, starting at (FPPI→0, miss rate 1), with the 9 reference points marked."""
    fppi = np.concatenate([[_LIMITS[0]], np.maximum(result.fppi, _LIMITS[0])])
    miss = np.concatenate([[1.0], result.miss_rate])
    shown = "n/a" if result.mr2 is None else f"{100 * result.mr2:.2f}%"
    line, = ax.step(fppi, np.maximum(miss, _LIMITS[2]), where="post", label=f"{shown} {label}")
    ax.plot(result.reference_fppi, np.maximum(result.miss_rate_at_references, _LIMITS[2]), "o",
            color=line.get_color(), markersize=3)


def _style(ax: Any, title: str) -> None:
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
        _style(ax, f"{name} ({result.n_positives} people)")
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
    _style(ax, title or subset)
    fig.tight_layout()
    return fig
