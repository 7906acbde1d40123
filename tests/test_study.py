"""The verdict protocol: decision rules at their boundaries, the plateau rule, controls and checks."""

import math

import pytest

from thoughtlab.errors import UnknownName
from thoughtlab.stats import Interval, exact, mean_ci
from thoughtlab.study import (
    Claim, Control, Outcome, budget_points, decide, is_plateau, split_key, summarize, verdicts, view_at,
)


def claim(**kw) -> Claim:
    base = dict(id="x", ledger=("c5",), statement="s", criterion="c", effect=lambda views: mean_ci([v["gap"] for v in views]),
                effect_name="gap", support=1.0, refute=0.0)
    return Claim(**(base | kw))


def iv(low, high, estimate=None):
    return Interval((low + high) / 2 if estimate is None else estimate, low, high, 3, "test")


@pytest.mark.parametrize(
    "low, high, plateaued, verdict",
    [
        (1.01, 2.0, None, "supported"),       # whole interval above support
        (1.0, 2.0, None, "inconclusive"),     # touching the support threshold is not enough
        (-2.0, -0.01, True, "refuted"),       # below refute and plateaued
        (-2.0, -0.01, False, "inconclusive"),  # below refute but still improving
        (-2.0, -0.01, None, "inconclusive"),  # below refute, no learning curve
        (-0.5, 1.5, True, "inconclusive"),    # straddles
    ],
)
def test_greater_rule_at_its_boundaries(low, high, plateaued, verdict):
    assert decide(claim(), iv(low, high), plateaued, [])[0] == verdict


@pytest.mark.parametrize(
    "low, high, verdict",
    [(0.0, 0.049, "supported"), (0.0, 0.05, "inconclusive"), (0.051, 0.2, "refuted"), (0.05, 0.2, "inconclusive")],
)
def test_less_rule_is_mirrored(low, high, verdict):
    c = claim(direction="less", support=0.05, refute=0.05, trained=False)
    assert decide(c, iv(low, high), None, [])[0] == verdict


def test_untrained_claim_refutes_without_a_curve():
    assert decide(claim(trained=False), iv(-1, -0.5), None, [])[0] == "refuted"


def test_failed_control_makes_it_inconclusive_and_names_it():
    verdict, reason = decide(claim(), iv(2, 3), True, ["short bags learnable"])
    assert verdict == "inconclusive" and "short bags learnable" in reason


def test_checks_hold_or_fail_but_never_support():
    check = claim(kind="check", support=0.5)
    assert decide(check, iv(0.6, 0.7), None, [])[0] == "holds"
    assert decide(check, iv(0.4, 0.7), None, [])[0] == "fails"


@pytest.mark.parametrize(
    "estimates, half, expected",
    [((0.6, 0.5, 0.9, 1.0), 0.2, True), ((0.6, 0.5, 0.7, 1.0), 0.2, False), ((0.6, 0.5, 0.8, 1.0), 0.2, True)],
)
def test_plateau_compares_the_last_quarter_with_the_final_half_width(estimates, half, expected):
    curve = [(f, Interval(e, e - half, e + half, 3, "t")) for f, e in zip((0.25, 0.5, 0.75, 1.0), estimates)]
    assert is_plateau(curve) is expected


@pytest.mark.parametrize(
    "estimates, direction, expected",
    [
        ((0.60, 0.55, 0.52, 0.50), "greater", True),    # falling away from support: settled on the refuting side
        ((0.40, 0.45, 0.48, 0.50), "greater", False),   # rising toward support at every step, each within the width
        ((0.40, 0.45, 0.45, 0.50), "greater", True),    # one flat step breaks the run
        ((1.00, 0.95, 0.79, 0.75), "less", False),      # csp-synthetic c14 at quick: MR falling toward support
        ((0.45, 0.50), "greater", True),                # too short for a trend: the half-width rule alone
    ],
)
def test_plateau_rejects_a_curve_still_moving_toward_support(estimates, direction, expected):
    fractions = (0.25, 0.5, 0.75, 1.0)[-len(estimates):]
    curve = [(f, Interval(e, e - 0.1, e + 0.1, 3, "t")) for f, e in zip(fractions, estimates)]
    assert is_plateau(curve, direction) is expected


def test_plateau_unknown_without_an_early_point_or_a_finite_interval():
    assert is_plateau([(1.0, iv(0, 1))]) is None
    assert is_plateau([(0.75, iv(0, 1)), (1.0, Interval(1, -math.inf, math.inf, 1, "one"))]) is None


def test_keys_views_and_budget_points():
    assert split_key("acc@0.25") == ("acc", 0.25) and split_key("acc") == ("acc", 1.0) and split_key("a@b") == ("a@b", 1.0)
    o = Outcome({"gap@0.5": 1.0, "gap": 2.0, "control": 0.9}, items={"err@0.5": [1.0], "err": [0.0]})
    assert budget_points(o) == [0.5, 1.0]
    assert view_at(o, 0.5) == {"gap": 1.0, "control": 0.9, "err": [1.0]}
    assert view_at(o, 1.0) == {"gap": 2.0, "control": 0.9, "err": [0.0]}


def test_verdicts_judge_all_seeds_along_the_curve():
    # The gap grew from 0 to ~2 and is still growing fast: a refutation is not allowed, a support is.
    outcomes = [Outcome({"gap@0.25": 0.0 + s, "gap@0.5": 0.5 + s, "gap@0.75": 1.0 + s, "gap": 2.0 + s}) for s in (0.0, 0.1, 0.2)]
    (record,) = verdicts(_study(claim()), outcomes)
    assert record["verdict"] == "supported" and record["plateaued"] is False
    assert [p["fraction"] for p in record["curve"]] == [0.25, 0.5, 0.75, 1.0]
    assert record["effect"]["estimate"] == pytest.approx(2.1)
    assert record["ledger"] == ["c5"] and len(record["criterion_hash"]) == 16


def test_controls_are_judged_on_the_final_views():
    ctl = Control("learnable", "accuracy > 0.9", passed=lambda views: min(v["acc"] for v in views) > 0.9)
    outcomes = [Outcome({"gap": 2.0 + s, "acc": 0.5}) for s in (0.0, 0.1, 0.2)]
    (record,) = verdicts(_study(claim(controls=(ctl,))), outcomes)
    assert record["verdict"] == "inconclusive" and record["controls"][0]["passed"] is False


def test_criterion_hash_changes_with_the_thresholds_and_the_effect():
    assert claim().criterion_hash() == claim().criterion_hash()
    assert claim().criterion_hash() != claim(support=1.5).criterion_hash()
    assert claim().criterion_hash() != claim(effect=lambda views: exact(0.0, "zero")).criterion_hash()


def test_summarize_mean_and_sample_std():
    s = summarize([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["std"] == pytest.approx(1.0) and s["n"] == 3
    assert summarize([5.0])["std"] == 0.0


def test_unknown_scale_names_the_choices(fake_study):
    with pytest.raises(UnknownName, match="unknown scale 'huge'.*quick"):
        fake_study.config("huge")


def test_claim_is_frozen():
    with pytest.raises(AttributeError):
        claim().id = "b"


def _study(c):
    from thoughtlab.study import Study

    return Study("t", "t", "t", "t", (c,), {"smoke": None}, run=None, plot=None)
