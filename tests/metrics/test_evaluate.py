"""evaluate(): one entry point, plain JSON-able dicts, seeds, and one clear error per bad input."""

import json

import numpy as np
import pytest
import torch

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import METRICS, compute_fid, compute_kid, compute_knn, evaluate, feature_stats

ALL = ["fid", "kid", "pr", "dc", "realism", "prd", "is"]


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((300, 12)).astype(np.float32)
    fake = (rng.standard_normal((300, 12)) * 1.1 + 0.1).astype(np.float32)
    logits = rng.standard_normal((300, 10))
    return real, fake, logits


def _run(features, **options):
    real, fake, logits = features
    return evaluate(real, fake, metrics=ALL, seed=3, fake_logits=logits, kid_subsets=5, kid_subset_size=100,
                    prd_num_clusters=5, prd_num_runs=2, **options)


def test_every_result_is_a_plain_json_able_dict_with_its_protocol(features):
    results = _run(features, fid_repeats=2)
    assert set(results) == {key for name in ALL for key in METRICS[name]}
    json.dumps(results)
    for key, entry in results.items():
        assert "protocol" in entry, key
        if key not in ("realism", "prd_curve"):
            assert isinstance(entry["value"], float), key
    for key in ("fid", "kid", "prd_f_beta", "prd_f_inv_beta", "is"):
        assert isinstance(results[key]["std"], float), key
    assert len(results["realism"]["values"]) == 300
    assert results["kid"]["protocol"]["seed"] == 3 and results["precision"]["protocol"]["k"] == 3


def test_results_equal_the_metric_functions_and_reproduce_bit_for_bit(features):
    real, fake, _ = features
    results = _run(features)
    assert results == _run(features)
    assert results["fid"] == compute_fid(real, fake)
    assert results["kid"] == compute_kid(real, fake, subsets=5, subset_size=100, seed=3)
    assert results["density"] == compute_knn(real, fake)["density"]


def test_torch_tensors_give_the_same_results(features):
    real, fake, _ = features
    numpy_results = evaluate(real, fake, metrics=["fid", "pr"])
    assert evaluate(torch.from_numpy(real), torch.from_numpy(fake), metrics=["fid", "pr"]) == numpy_results


def test_aliases_options_and_saved_statistics(features):
    real, fake, _ = features
    results = evaluate(real, fake, metrics="precision, coverage", pr_k=5, dc_comparison="<=")
    assert set(results) == {"precision", "recall", "density", "coverage"}
    assert results["precision"]["protocol"]["k"] == 5 and results["coverage"]["protocol"]["comparison"] == "<="
    stats = evaluate(feature_stats(real), feature_stats(fake), metrics="fid")
    assert stats["fid"]["value"] == pytest.approx(evaluate(real, fake, metrics="fid")["fid"]["value"], rel=1e-12)
    assert evaluate(None, None, metrics=["is"], fake_logits=features[2])["is"]["value"] > 1.0


def test_unknown_names_raise_unknown_name(features):
    real, fake, _ = features
    with pytest.raises(UnknownName, match="unknown metric 'fdi'"):
        evaluate(real, fake, metrics=["fdi"])
    with pytest.raises(UnknownName, match="unknown evaluate option 'kid_subset'"):
        evaluate(real, fake, metrics=["kid"], kid_subset=10)


def test_bad_inputs_raise_one_clear_error(features):
    real, fake, _ = features
    with pytest.raises(BadInput, match="12 dimensions but fake features have 11"):
        evaluate(real, fake[:, :11], metrics=["kid"])
    nan = fake.copy()
    nan[4, 0] = np.inf
    with pytest.raises(BadInput, match="NaN or Inf"):
        evaluate(real, nan, metrics=["fid"])
    with pytest.raises(BadInput, match="at least 6 real samples"):
        evaluate(real[:5], fake, metrics=["dc"])
    with pytest.raises(BadInput, match="expected a 2-D array"):
        evaluate(real[0], fake, metrics=["fid"])
    with pytest.raises(BadInput, match="applies to kid"):
        evaluate(real, fake, metrics=["fid"], kid_subsets=10)
    with pytest.raises(BadInput, match="fake_logits"):
        evaluate(real, fake, metrics=["is"])
    with pytest.raises(BadInput, match="only give FID"):
        evaluate(feature_stats(real), fake, metrics=["fid", "kid"])
    with pytest.raises(BadInput, match="need both real and fake"):
        evaluate(real, None, metrics=["kid"])
    with pytest.raises(BadInput, match="no metric"):
        evaluate(real, fake, metrics=[])
    with pytest.raises(BadInput, match="not numeric"):
        evaluate(real.astype(str), fake, metrics=["fid"])
