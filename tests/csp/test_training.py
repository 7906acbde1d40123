"""CSP training: hybrid batches, image sets, resume equality, validation logging, errors."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from thoughtlab.csp.datasets import PedestrianSet, make_image
from thoughtlab.csp.synth import make_dataset
from thoughtlab.csp.detectors import build_detector, csp_spec, load_detector, seeded_detector
from thoughtlab.csp.inference import evaluate_model
from thoughtlab.csp.train_config import TrainConfig
from thoughtlab.csp.training import train_detector
from thoughtlab.csp.training_data import HybridSampler, ImageSet
from thoughtlab.errors import BadInput, UnknownName, UserError

SMOKE = TrainConfig.preset("smoke")


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    s = SMOKE.synthetic
    make_dataset(root, sizes=s["sizes"], preset=s["preset"], width=s["width"], height=s["height"])
    return root


def open_sets(root):
    return ImageSet.from_split(root, "train", SMOKE.min_height, True), ImageSet.from_split(root, "val", 0.0, True)


def mixed_set(tmp_path, n_people=5, n_empty=3):
    images = [make_image(i + 1, f"{i}.png", 32, 32, [[4, 4, 8, 20]] if i < n_people else [])
              for i in range(n_people + n_empty)]
    return ImageSet(PedestrianSet("mixed", images), tmp_path)


def test_hybrid_batches_have_the_configured_share_of_images_with_people(tmp_path):
    data = mixed_set(tmp_path)
    sampler = HybridSampler(data, batch_size=4, ratio=0.5, seed=0)
    for step in range(6):
        batch = sampler.batch(step)
        assert len(batch) == 4
        assert [data.has_people(i) for i in batch] == [True, True, False, False]
    # each pool is walked in permutations: 5 consecutive people-draws cover all 5 images
    draws = [i for step in range(5) for i in sampler.batch(step)[:2]]
    assert sorted(draws[:5]) == [0, 1, 2, 3, 4]
    assert sampler.batch(3) == HybridSampler(data, 4, 0.5, seed=0).batch(3)
    assert sampler.batch(3) != HybridSampler(data, 4, 0.5, seed=1).batch(3) or sampler.batch(4) != HybridSampler(
        data, 4, 0.5, seed=1).batch(4)


def test_uniform_batches_without_ratio_or_without_empty_images(tmp_path):
    data = mixed_set(tmp_path)
    assert len(HybridSampler(data, 3, None, 0).pools) == 1
    assert len(HybridSampler(mixed_set(tmp_path, 4, 0), 3, 0.5, 0).pools) == 1
    with pytest.raises(BadInput, match="hybrid ratio"):
        HybridSampler(data, 3, 1.5, 0)


def test_min_height_policy_turns_short_people_into_ignores(tmp_path):
    image = make_image(1, "a.png", 64, 64, [[0, 0, 10, 60], [20, 0, 10, 30]])
    data = ImageSet(PedestrianSet("x", [image]), tmp_path, min_height=50)
    persons, ignore = data.boxes(0)
    np.testing.assert_allclose(persons, [[0, 0, 10, 60]])
    np.testing.assert_allclose(ignore, [[20, 0, 30, 30]])


def test_corrupt_or_missing_image_names_the_file(tmp_path):
    data = mixed_set(tmp_path)
    with pytest.raises(BadInput, match="0.png"):
        data.image(0)
    (tmp_path / "1.png").write_bytes(b"not a png")
    with pytest.raises(BadInput, match="1.png.*corrupt"):
        data.image(1)


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(smoke_data, tmp_path):
    train, _ = open_sets(smoke_data)
    cfg = replace(SMOKE, val_every=100)
    full = train_detector(seeded_detector(cfg.detector, 0), train, cfg, tmp_path / "a", progress=False)
    first = train_detector(seeded_detector(cfg.detector, 0), train, cfg, tmp_path / "b", progress=False, stop_after=2)
    assert first.steps == 2 and not (tmp_path / "b" / "model.pt").exists()
    rest = train_detector(seeded_detector(cfg.detector, 0), train, cfg, tmp_path / "b", progress=False, resume=True)
    assert rest.steps == 4 and len(rest.losses) == 2
    assert full.losses[2:] == rest.losses
    for (name, a), b in zip(full.model.state_dict().items(), rest.model.state_dict().values()):
        assert torch.equal(a, b), name
    for weights in ("model.pt", "checkpoint.pt"):  # the final teacher, and the teacher inside the training state
        _, loaded = load_detector(tmp_path / "b" / weights)
        for a, b in zip(loaded.state_dict().values(), full.model.state_dict().values()):
            assert torch.equal(a, b), weights


def test_validation_is_logged_and_best_teacher_saved(smoke_data, tmp_path):
    train, val = open_sets(smoke_data)
    result = train_detector(seeded_detector(SMOKE.detector, 0), train, SMOKE, tmp_path, val=val, progress=False)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines if "loss" in line] == [1, 2, 3, 4]
    val_lines = [line for line in lines if "val_mr2_reasonable" in line]
    assert [line["step"] for line in val_lines] == [2, 4]
    assert result.val_history == [(line["step"], line["val_mr2_reasonable"]) for line in val_lines]
    assert (tmp_path / "best.pt").exists() and result.best_val_mr2 == min(m for _, m in result.val_history)
    spec, teacher = load_detector(tmp_path / "best.pt")
    assert evaluate_model(spec, teacher, val, 0.1).mr2("Reasonable") == pytest.approx(result.best_val_mr2)


def test_existing_checkpoint_needs_resume_and_the_same_config(smoke_data, tmp_path):
    train, _ = open_sets(smoke_data)
    cfg = replace(SMOKE, steps=1)
    train_detector(seeded_detector(cfg.detector, 0), train, cfg, tmp_path, progress=False)
    with pytest.raises(UserError, match="--resume"):
        train_detector(seeded_detector(cfg.detector, 0), train, cfg, tmp_path, progress=False)
    with pytest.raises(UserError, match="lr"):
        train_detector(seeded_detector(cfg.detector, 0), train, replace(cfg, lr=1.0), tmp_path, progress=False, resume=True)


def test_config_and_registry_errors():
    with pytest.raises(UnknownName, match="training preset"):
        TrainConfig.preset("huge")
    with pytest.raises(UnknownName, match="training option"):
        TrainConfig.from_dict({"learning_rate": 1})
    with pytest.raises(UnknownName, match="augment option"):
        TrainConfig.from_dict({"augment": {"flip": 1}})
    with pytest.raises(BadInput, match="multiples of 16"):
        TrainConfig.from_dict({"crop": [60, 96]})
    with pytest.raises(UnknownName, match="detector"):
        build_detector({"detector": "yolo"})
    with pytest.raises(UnknownName, match="CSP detector option"):
        csp_spec({"depth": 3})
    cfg = TrainConfig.from_dict({"crop": [336, 448], "batch_size": 16, "augment": {"scale_range": [0.5, 1.0]}})
    assert cfg.crop == (336, 448) and cfg.augment.scale_range == (0.5, 1.0)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_learning_rate_schedules():
    from thoughtlab.csp.train_config import learning_rate

    constant = TrainConfig.from_dict({"lr": 1e-3, "steps": 100})
    assert [learning_rate(constant, s) for s in (0, 50, 99)] == [1e-3] * 3
    cosine = replace(constant, lr_schedule="cosine")
    assert learning_rate(cosine, 0) == pytest.approx(1e-3)
    assert learning_rate(cosine, 50) == pytest.approx(5e-4)
    assert learning_rate(cosine, 100) == pytest.approx(0.0, abs=1e-15)
    rates = [learning_rate(cosine, s) for s in range(101)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))
    with pytest.raises(UnknownName, match="lr_schedule"):
        TrainConfig.from_dict({"lr_schedule": "step"})


def test_csp_loss_weights_are_configurable_and_checked():
    from thoughtlab.csp.loss import LOSS_WEIGHTS

    assert tuple(csp_spec({"backbone": "resnet18", "width": 0.125}).config["loss_weights"]) == LOSS_WEIGHTS
    spec = csp_spec({"backbone": "resnet18", "width": 0.125, "loss_weights": [1.0, 0.0, 0.0]})
    with pytest.raises(BadInput, match="loss_weights"):
        csp_spec({"loss_weights": [1.0, 2.0]})
    with pytest.raises(BadInput, match="loss_weights"):
        csp_spec({"loss_weights": [1.0, -1.0, 0.1]})
    with pytest.raises(UnknownName, match="scale_loss"):
        csp_spec({"scale_loss": "absolute"})
    # with zero scale and offset weights the total is the center loss alone
    from thoughtlab.csp.model import normalize_images

    persons = np.array([[20.0, 8.0, 36.0, 48.0]])
    targets = spec.collate([spec.targets(persons, np.zeros((0, 4)), (64, 96))])
    outputs = spec.model(normalize_images(torch.full((1, 3, 64, 96), 128.0)))
    total, parts = spec.loss(outputs, targets)
    assert float(total.detach()) == pytest.approx(parts["center"], rel=1e-6)
