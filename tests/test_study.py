import pytest

from thoughtlab.errors import UnknownName
from thoughtlab.study import Claim, Outcome, combine, judge, summarize, verdicts


def test_judge_has_three_outcomes():
    assert judge(True, False) == "supported"
    assert judge(False, True) == "refuted"
    assert judge(False, False) == "inconclusive"
    assert judge(True, True) == "inconclusive"


def test_combine_needs_all_seeds_to_agree():
    assert combine(["supported", "supported"]) == "supported"
    assert combine(["refuted"]) == "refuted"
    assert combine(["supported", "refuted"]) == "inconclusive"
    assert combine([]) == "inconclusive"


def test_summarize_mean_and_sample_std():
    s = summarize([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["std"] == pytest.approx(1.0) and s["n"] == 3
    assert summarize([5.0])["std"] == 0.0


def test_verdicts_judge_each_seed(fake_study):
    outcomes = [Outcome({"heads": 0.5, "flips": 1.0}), Outcome({"heads": 0.9, "flips": 1.0})]
    (record,) = verdicts(fake_study, outcomes)
    assert record["per_seed"] == ["supported", "refuted"]
    assert record["verdict"] == "inconclusive"
    assert record["measures"] == ["heads"]


def test_unknown_scale_names_the_choices(fake_study):
    with pytest.raises(UnknownName, match="unknown scale 'huge'.*quick"):
        fake_study.config("huge")


def test_claim_is_frozen():
    claim = Claim("a", "s", "c", ("m",), lambda m: "supported")
    with pytest.raises(AttributeError):
        claim.id = "b"
