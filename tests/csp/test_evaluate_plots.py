"""Miss-rate-vs-FPPI figures: one panel per subset, and a comparison of detectors on one subset."""

from thoughtlab.csp.datasets import PedestrianSet, make_image
from thoughtlab.csp.evaluate import evaluate_miss_rate
from thoughtlab.csp.evaluate_plots import plot_comparison, plot_subsets


def _close(fig) -> None:
    import matplotlib.pyplot as plt  # after the plotting code chose the Agg backend

    plt.close(fig)


def _evaluation(score_of_miss: float):
    people = [[100, 100, 41, 100], [300, 100, 41, 100]]
    gt = PedestrianSet("p", [make_image(1, "1.png", 640, 480, people, visibility=[1.0, 0.5]),
                             make_image(2, "2.png", 640, 480, [])])
    detections = [{"image_id": 1, "bbox": people[0], "score": 0.9},
                  {"image_id": 2, "bbox": [10, 10, 41, 100], "score": score_of_miss}]
    return evaluate_miss_rate(gt, detections, ["Reasonable", "Heavy", "Partial", "All", "Bare"])


def test_plot_subsets_draws_one_panel_per_subset_with_mr_in_the_legend(tmp_path):
    fig = plot_subsets(_evaluation(0.95), title="fixture")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 5 and visible[0].get_xscale() == "log"
    assert "%" in visible[0].get_legend().get_texts()[0].get_text()
    assert "n/a" in visible[2].get_legend().get_texts()[0].get_text()   # Partial has no positives
    fig.savefig(tmp_path / "mr.png")
    _close(fig)
    assert (tmp_path / "mr.png").stat().st_size > 0


def test_plot_comparison_draws_one_curve_per_detector():
    fig = plot_comparison({"a": _evaluation(0.95), "b": _evaluation(0.5)}, "Reasonable")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(texts) == 2 and texts[0].endswith(" a") and texts[1].endswith(" b")
    _close(fig)
