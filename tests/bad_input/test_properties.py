"""Property tests of the loaders and validators (issue 12): for any input, a correct result or a UserError.

Random JSON for ground truths, detections and training configs; random arrays (dtype, shape, NaN/Inf,
tiny N) for ``evaluate`` and ``eval``; random bytes for image and ``.npz`` files.  A correct result is
checked by invariants the loader promises (finite boxes with w, h >= 0, a PSD covariance, ...).
"""

import io
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from thoughtlab import validate
from thoughtlab.cli import main
from thoughtlab.errors import UserError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=5))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                           max_leaves=12)


def numberish(low=-1e3, high=1e3):
    """Mostly plausible numbers, sometimes the wrong JSON type."""
    return st.one_of(st.floats(low, high), st.integers(-5, 2000), st.just(float("nan")), st.just(float("inf")),
                     st.text(max_size=3), st.booleans(), st.none(), st.just(10**400))


# ------------------------------------------------------------------------------------------ detections and GT

detection = st.fixed_dictionaries(
    {"image_id": numberish() | st.just(1e20), "bbox": st.one_of(st.lists(numberish(), min_size=3, max_size=5), json_values),
     "score": numberish(0, 1)},
    optional={"category_id": st.one_of(st.just(1), numberish())})


@FAST
@given(st.one_of(st.lists(detection, max_size=5), st.lists(st.fixed_dictionaries(
    {"image_id": st.integers(0, 9), "bbox": st.lists(st.floats(-5, 300), min_size=4, max_size=4),
     "score": st.floats(0, 1)}), max_size=5), json_values))
def test_detections_are_read_correctly_or_refused(results):
    from thoughtlab.csp.evaluate import Detections

    try:
        dets = Detections.from_coco(results)
    except UserError:
        event("refused")
        return
    event("accepted")
    assert len(dets.image_ids) == len(dets.boxes) == len(dets.scores)
    assert np.isfinite(dets.boxes).all() and np.isfinite(dets.scores).all() and (dets.boxes[:, 2:] >= 0).all()
    assert dets.image_ids.dtype == np.int64


@st.composite
def plausible_ground_truth(draw):
    """A COCO-style ground truth that is valid unless a drawn box has a negative side or an id is odd."""
    ids = draw(st.lists(st.integers(-3, 5), min_size=0, max_size=3, unique=True))
    boxes = st.lists(st.floats(-10, 300), min_size=4, max_size=4)
    annotations = [{"image_id": draw(st.sampled_from(ids)), "bbox": draw(boxes), "category_id": 1}
                   for _ in range(draw(st.integers(0, 4)))] if ids else []
    return {"images": [{"id": i, "file_name": f"{i}.png"} for i in ids], "annotations": annotations}


ground_truth = st.fixed_dictionaries({
    "images": st.one_of(st.lists(st.fixed_dictionaries({"id": numberish()}, optional={"file_name": scalars}),
                                 max_size=3), json_values),
    "annotations": st.one_of(st.lists(st.fixed_dictionaries(
        {"image_id": numberish(), "bbox": st.lists(numberish(), min_size=3, max_size=5)},
        optional={"category_id": numberish(), "ignore": numberish(), "height": numberish(),
                  "vis_ratio": numberish(), "vis_bbox": st.lists(numberish(), min_size=4, max_size=4)}),
        max_size=4), json_values)})


@FAST
@given(st.one_of(plausible_ground_truth(), ground_truth, json_values))
def test_ground_truth_is_read_correctly_or_refused(tmp_path_factory, data):
    from thoughtlab.csp.datasets import load_annotations
    from thoughtlab.csp.evaluate import evaluate_miss_rate

    path = tmp_path_factory.mktemp("gt") / "gt.json"
    path.write_text(json.dumps(data))
    try:
        gt = load_annotations(path)
    except UserError:
        event("refused")
        return
    event("accepted")
    assert gt.images
    for image in gt.images:
        assert np.isfinite(image.boxes).all() and (image.boxes[:, 2:] >= 0).all()
    result = evaluate_miss_rate(gt, [], ["Reasonable", "All"])  # any loaded ground truth can be evaluated
    assert all(r.mr2 is None or 0 <= r.mr2 <= 1 for r in result.subsets.values())


# ------------------------------------------------------------------------------------------ training configs

def config_dicts():
    from thoughtlab.csp.train_config import TrainConfig

    keys = [f for f in TrainConfig.__dataclass_fields__ if f not in ("detector", "synthetic", "augment")]
    detector = st.fixed_dictionaries({}, optional={
        "detector": st.sampled_from(["csp", "anchor", "yolo"]), "width": numberish(), "aspect_ratio": numberish(),
        "loss_weights": st.lists(numberish(), max_size=4), "pre_nms_top_k": numberish(), "nms_iou": numberish(),
        "backbone": st.sampled_from(["resnet18", 3])})
    plausible = st.fixed_dictionaries({}, optional={
        "steps": st.integers(-1, 10) | st.floats(0, 10), "lr": st.floats(-1, 1) | st.text(max_size=3),
        "batch_size": st.integers(0, 4), "crop": st.lists(st.sampled_from([16, 32, 64, 60, 64.0]), min_size=2,
                                                          max_size=2),
        "seed": st.integers(-2, 2**33), "ema_decay": st.floats(0, 1.2), "hybrid_ratio": st.none() | st.floats(0, 1),
        "detector": detector, "augment": st.fixed_dictionaries({}, optional={"flip_prob": numberish(0, 1)})})
    random = st.dictionaries(st.sampled_from(keys + ["detector", "augment", "synthetic", "nope"]),
                             st.one_of(numberish(), st.lists(numberish(), max_size=3), detector, json_values),
                             max_size=4)
    return plausible | random


@FAST
@given(config_dicts())
def test_training_configs_are_typed_or_refused(data):
    from thoughtlab.csp.train_config import PRESETS, TrainConfig

    try:
        cfg = TrainConfig.from_dict(data, PRESETS["smoke"])
    except UserError:
        event("refused")
        return
    event("accepted")
    assert isinstance(cfg.steps, int) and not isinstance(cfg.steps, bool) and cfg.steps >= 1
    assert isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr > 0
    assert all(isinstance(s, int) and s % 16 == 0 for s in cfg.crop)
    json.dumps(cfg.to_dict(), allow_nan=False)  # a config that passed is plain, finite JSON


@FAST
@given(st.one_of(numberish(-1e12, 1e12), st.integers(-2**70, 2**70), st.integers(10**300, 10**400)))
def test_number_checks_return_what_they_promise_or_refuse(value):
    for check, ok in ((lambda v: validate.number(v, "x", low=0, high=1), lambda r: 0 <= r <= 1),
                      (lambda v: validate.integer(v, "x", low=1), lambda r: type(r) is int and r >= 1),
                      (lambda v: validate.seed(v), lambda r: type(r) is int and 0 <= r < 2**32)):
        try:
            assert ok(check(value))
        except UserError:
            pass


# ------------------------------------------------------------------------------------------ metrics on arrays

dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int64, np.uint8, np.int8, np.bool_, np.complex64])


@st.composite
def feature_arrays(draw):
    dtype = draw(dtypes)
    shape = draw(st.one_of(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
                           st.tuples(st.integers(0, 12), st.integers(0, 5))))
    if np.dtype(dtype).kind == "f":
        elements = st.floats(-1e3, 1e3, width=np.dtype(dtype).itemsize * 8) | st.sampled_from([np.nan, np.inf])
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def feature_pairs(draw):
    """Two feature arrays: half the time of one float dtype and dimension (tiny N, maybe NaN/Inf), else anything."""
    if draw(st.booleans()):
        return draw(feature_arrays()), draw(feature_arrays())
    dtype, d = draw(st.sampled_from([np.float32, np.float64, np.int64])), draw(st.integers(1, 4))
    floats = st.floats(-1e3, 1e3, width=32) if dtype != np.int64 else st.integers(-100, 100)
    pair = [draw(hnp.arrays(dtype, (draw(st.integers(0, 12)), d), elements=floats)) for _ in range(2)]
    if dtype != np.int64 and pair[0].size and draw(st.integers(0, 3)) == 0:  # now and then one NaN or Inf
        pair[0].flat[draw(st.integers(0, pair[0].size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return tuple(pair)


@SLOW
@given(feature_pairs(), st.sampled_from(["fid", "kid", "pr", "dc", "fid,kid,pr,dc"]))
def test_evaluate_gives_finite_values_or_refuses(pair, metrics):
    real, fake = pair
    from thoughtlab.metrics import evaluate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            results = evaluate(real, fake, metrics=metrics, **({"kid_subsets": 3} if "kid" in metrics else {}))
        except UserError:
            event("refused")
            return
    event("accepted")
    for key, result in results.items():
        assert math.isfinite(result["value"])
        if key in ("precision", "recall", "coverage"):
            assert 0 <= result["value"] <= 1
        if key == "fid":
            assert result["value"] >= -1e-6 * max(1.0, float(np.abs(real).max()) ** 2)


@st.composite
def statistics(draw):
    d = draw(st.integers(0, 4))
    mu = draw(hnp.arrays(np.float64, draw(st.sampled_from([(d,), (d,), (d + 1,), ()])), elements=st.floats(-10, 10)))
    if mu.size and draw(st.integers(0, 4)) == 0:
        mu.flat[0] = np.nan
    kind = draw(st.sampled_from(["covariance", "random", "negated"]))
    a = draw(hnp.arrays(np.float64, (d, d), elements=st.floats(-3, 3)))
    sigma = {"covariance": a @ a.T, "random": a, "negated": -(a @ a.T)}[kind]
    return mu, sigma


@FAST
@given(statistics(), st.one_of(st.none(), st.integers(-3, 10), st.floats(0, 5)))
def test_saved_statistics_are_covariances_or_refused(tmp_path_factory, stats, n):
    from thoughtlab.metrics.fid import frechet_distance, load_stats

    mu, sigma = stats
    path = tmp_path_factory.mktemp("stats") / "s.npz"
    np.savez(path, mu=mu, sigma=sigma, **({} if n is None else {"n": np.asarray(n)}))
    try:
        loaded = load_stats(path)
    except UserError:
        event("refused")
        return
    event("accepted")
    assert np.allclose(loaded.sigma, loaded.sigma.T)
    assert np.linalg.eigvalsh(loaded.sigma).min() >= -1e-5 * max(1.0, np.abs(loaded.sigma).max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert frechet_distance(loaded, loaded) == pytest.approx(0.0, abs=1e-6 * max(1.0, np.trace(loaded.sigma)))


# ------------------------------------------------------------------------------------------ files of random bytes

@FAST
@given(st.binary(max_size=400), st.sampled_from([".npz", ".npy"]), st.sampled_from(["", "PK\x03\x04", "\x93NUMPY"]),
       st.one_of(st.none(), st.just(1.0), st.floats(0, 1)))
def test_random_array_files_are_read_or_refused(tmp_path_factory, data, suffix, magic, cut):
    """Random bytes after a plausible magic, or a real saved array cut at fraction ``cut`` (1: whole)."""
    from thoughtlab.metrics.inputs import Features, Images, load_source

    path = tmp_path_factory.mktemp("arr") / f"x{suffix}"
    if cut is None:
        path.write_bytes(magic.encode("latin-1") + data)
    else:
        buffer = io.BytesIO()
        array = np.frombuffer(data.ljust(8, b"\0")[: len(data) // 8 * 8 or 8], dtype=np.uint8).reshape(-1, 1, 2, 4)
        (np.savez(buffer, images=array) if suffix == ".npz" else np.save(buffer, array))
        whole = buffer.getvalue()
        path.write_bytes(whole[: round(cut * len(whole))])
    try:
        loaded = load_source(path)
    except UserError:
        event("refused")
        return
    event("accepted")
    assert isinstance(loaded, (Images, Features))


@FAST
@given(st.binary(max_size=300), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a"]),
       st.booleans())
def test_random_image_files_are_read_or_refused(tmp_path_factory, data, magic, truncate_good):
    from PIL import Image

    from thoughtlab.csp.training_data import read_image as read_csp_image
    from thoughtlab.metrics.inputs import read_image as read_eval_image

    folder = tmp_path_factory.mktemp("img")
    path = folder / "x.png"
    if truncate_good:  # a real PNG cut at a random place
        buffer = io.BytesIO()
        Image.fromarray(np.arange(300, dtype=np.uint8).reshape(10, 10, 3)).save(buffer, format="PNG")
        good = buffer.getvalue()
        path.write_bytes(good[: len(data) % (len(good) + 1)] if len(data) % 3 else good)
    else:
        path.write_bytes(magic + data)
    for read in (read_eval_image, read_csp_image):
        try:
            image = read(path)
        except UserError:
            event(f"{read.__module__}: refused")
            continue
        event(f"{read.__module__}: accepted")
        assert np.asarray(image).size > 0


# ------------------------------------------------------------------------------------------ the CLI, end to end

@SLOW
@given(feature_pairs())
def test_eval_cli_exits_0_or_2_with_one_line(tmp_path_factory, capsys, pair):
    real, fake = pair
    folder = tmp_path_factory.mktemp("cli")
    np.save(folder / "r.npy", real)
    np.save(folder / "f.npy", fake)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["eval", str(folder / "r.npy"), str(folder / "f.npy"), "--metrics", "fid,kid,pr,dc",
                     "--extractor", "pixels", "--no-cache", "--json", str(folder / "o.json")])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    event(f"exit {code}")
    if code == 2:
        assert err.count("\n") == 1 and "Traceback" not in err and not (folder / "o.json").exists()
    else:
        assert json.loads((folder / "o.json").read_text())["metrics"]
