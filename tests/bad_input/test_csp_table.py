"""Bad inputs of ``thoughtlab csp evaluate``, ``csp detect`` and ``csp train``: one table each."""

import argparse
import json

import numpy as np
import pytest
import torch
from PIL import Image

from thoughtlab.cli import main
from thoughtlab.csp.datasets import PedestrianSet, make_image, write_coco
from thoughtlab.csp.detectors import build_detector
from thoughtlab.csp.train_config import PRESETS
from thoughtlab.train import save_checkpoint

PERSON = [100.0, 100.0, 41.0, 100.0]


def detection(**change):
    return {"image_id": 1, "category_id": 1, "bbox": PERSON, "score": 0.9, **change}


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """Ground truths, detections, weights, images and configs, good and bad, written once."""
    d = tmp_path_factory.mktemp("csp-inputs")
    write_coco(PedestrianSet("gt", [make_image(1, "1.png", 640, 480, [PERSON])]), d / "gt.json")
    (d / "gt_empty.json").write_text(json.dumps({"images": [], "annotations": []}))
    gt = json.loads((d / "gt.json").read_text())
    bad = json.loads(json.dumps(gt))
    bad["annotations"][0]["bbox"] = [100, 100, -41, 100]
    (d / "gt_negative.json").write_text(json.dumps(bad))
    bad["annotations"][0]["bbox"] = [100, 100, "41", 100]
    (d / "gt_string.json").write_text(json.dumps(bad))
    bad["annotations"][0]["bbox"], bad["annotations"][0]["image_id"] = PERSON, 7
    (d / "gt_orphan.json").write_text(json.dumps(bad))
    (d / "gt_list.json").write_text("[]")
    for name, content in {
        "dets.json": [detection()], "det_neg_w.json": [detection(bbox=[1, 1, -5, 10])],
        "det_neg_h.json": [detection(bbox=[1, 1, 5, -10])], "det_three.json": [detection(bbox=[1, 1, 5])],
        "det_id.json": [detection(image_id=1.5)], "det_score.json": [detection(score="high")],
        "det_dict.json": {"image_id": 1}, "det_nofield.json": [{"image_id": 1, "bbox": PERSON}],
    }.items():
        (d / name).write_text(json.dumps(content))
    (d / "det_nan.json").write_text('[{"image_id": 1, "bbox": [1, 1, 5, 10], "score": NaN}]')
    (d / "not_json.json").write_text("{oops")
    (d / "a_file").write_text("x")

    spec = build_detector(PRESETS["smoke"].detector)
    weights = {"format": "thoughtlab-detector-v1", "detector": spec.config, "model": spec.model.state_dict(), "step": 0}
    save_checkpoint(d / "model.pt", weights)
    for name, key, value in (("w_width.pt", "width", "0.125"), ("w_aspect.pt", "aspect_ratio", "0.41"),
                             ("w_loss.pt", "loss_weights", [0.01, "1", 0.1]), ("w_topk.pt", "pre_nms_top_k", 10.5),
                             ("w_nan.pt", "aspect_ratio", float("nan"))):
        save_checkpoint(d / name, {**weights, "detector": {**spec.config, key: value}})
    save_checkpoint(d / "w_nokeys.pt", {"model": {}})
    torch.save(argparse.Namespace(model=1), d / "w_pickle.pt")
    (d / "w_truncated.pt").write_bytes((d / "model.pt").read_bytes()[:300])

    rng = np.random.default_rng(0)
    for folder, names in (("images", ["a.png", "b.png"]), ("late_corrupt", ["a.png", "b.png"])):
        (d / folder).mkdir()
        for name in names:
            Image.fromarray(rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)).save(d / folder / name)
    (d / "late_corrupt" / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)
    (d / "no_images").mkdir()
    (d / "no_images" / "notes.txt").write_text("x")
    (d / "gt_other.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "zzz.png"}]}))
    for name, cfg in {
        "lr_string": {"lr": "0.1"}, "steps_float": {"steps": 2.5}, "steps_string": {"steps": "3"},
        "width_string": {"detector": {"detector": "csp", "backbone": "resnet18", "width": "0.125"}},
        "aspect_string": {"detector": {"detector": "csp", "backbone": "resnet18", "aspect_ratio": "0.41"}},
        "loss_string": {"detector": {"detector": "csp", "backbone": "resnet18", "loss_weights": ["a", 1, 1]}},
        "loss_two": {"detector": {"detector": "csp", "backbone": "resnet18", "loss_weights": [1, 1]}},
        "unknown_key": {"learning_rate": 0.1}, "crop_16": {"crop": [60, 96]}, "crop_float": {"crop": [64.0, 96.5]},
        "lr_negative": {"lr": -1}, "seed_negative": {"seed": -1}, "seed_huge": {"seed": 2**40},
        "batch_0": {"batch_size": 0}, "ema_decay": {"ema_decay": 1.5}, "flip_string": {"augment": {"flip_prob": "x"}},
        "augment_list": {"augment": [1, 2]}, "synthetic_width": {"synthetic": {"width": "a"}},
        "hybrid_1": {"hybrid_ratio": 1.0}, "warmup_int": {"ema_warmup": 1}, "detector_list": {"detector": [1]},
        "unknown_detector": {"detector": {"detector": "yolo"}}, "sizes_negative": {"synthetic": {"sizes": {"train": -1}}},
        "list": [1, 2],
    }.items():
        (d / f"{name}.json").write_text(json.dumps(cfg))
    (d / "lr_nan.json").write_text('{"lr": NaN}')
    (d / "score_inf.json").write_text('{"score_threshold": Infinity}')
    return d


EVALUATE = [
    ("detections-missing", lambda d, t: [d / "none.json", "--gt", d / "gt.json"], "none.json", "check the path"),
    ("gt-missing", lambda d, t: [d / "dets.json", "--gt", d / "none.json"], "none.json", "check the path"),
    ("detections-not-json", lambda d, t: [d / "not_json.json", "--gt", d / "gt.json"], "not_json.json",
     "COCO results json"),
    ("detections-a-dict", lambda d, t: [d / "det_dict.json", "--gt", d / "gt.json"], "det_dict.json", "JSON list"),
    ("detection-lacks-score", lambda d, t: [d / "det_nofield.json", "--gt", d / "gt.json"], "field [0]",
     "needs image_id, bbox and score"),
    ("detection-negative-width", lambda d, t: [d / "det_neg_w.json", "--gt", d / "gt.json"], "negative width",
     "w, h >= 0"),
    ("detection-negative-height", lambda d, t: [d / "det_neg_h.json", "--gt", d / "gt.json"], "negative width or height",
     "w, h >= 0"),
    ("detection-nan-score", lambda d, t: [d / "det_nan.json", "--gt", d / "gt.json"], "field [0]", "finite score"),
    ("detection-three-numbers", lambda d, t: [d / "det_three.json", "--gt", d / "gt.json"], "field [0]",
     "bbox of 4 finite numbers"),
    ("detection-fractional-id", lambda d, t: [d / "det_id.json", "--gt", d / "gt.json"], "field [0]",
     "integer image_id"),
    ("detection-string-score", lambda d, t: [d / "det_score.json", "--gt", d / "gt.json"], "field [0]",
     "finite score"),
    ("gt-no-images", lambda d, t: [d / "dets.json", "--gt", d / "gt_empty.json"], "holds no images",
     "give the ground truth"),
    ("gt-negative-box", lambda d, t: [d / "dets.json", "--gt", d / "gt_negative.json"], "negative width",
     "w, h >= 0"),
    ("gt-string-box", lambda d, t: [d / "dets.json", "--gt", d / "gt_string.json"], "annotations[0].bbox",
     "4 finite numbers"),
    ("gt-orphan-annotation", lambda d, t: [d / "dets.json", "--gt", d / "gt_orphan.json"], "image_id=7",
     "names no entry"),
    ("gt-not-json", lambda d, t: [d / "dets.json", "--gt", d / "not_json.json"], "not_json.json", "not valid JSON"),
    ("gt-a-list", lambda d, t: [d / "dets.json", "--gt", d / "gt_list.json"], "gt_list.json", "images"),
    ("out-is-a-file", lambda d, t: [d / "dets.json", "--gt", d / "gt.json", "--out", d / "a_file"], "--out",
     "pass a folder"),
    ("out-under-a-file", lambda d, t: [d / "dets.json", "--gt", d / "gt.json", "--out", d / "a_file" / "o"],
     "a_file", "folder path"),
    ("unknown-subset", lambda d, t: [d / "dets.json", "--gt", d / "gt.json", "--subsets", "Tiny"], "Tiny",
     "choose one of"),
    ("unknown-below-first", lambda d, t: [d / "dets.json", "--gt", d / "gt.json", "--below-first", "x"], "'x'",
     "choose one of"),
    ("unknown-fppi-points", lambda d, t: [d / "dets.json", "--gt", d / "gt.json", "--fppi-points", "x"], "'x'",
     "choose one of"),
]


@pytest.mark.parametrize("argv, thing, fix", [row[1:] for row in EVALUATE], ids=[row[0] for row in EVALUATE])
def test_csp_evaluate_refuses(d, tmp_path, refuse, argv, thing, fix):
    refuse(["csp", "evaluate", *argv(d, tmp_path)], thing, fix, root=d)


def W(d, name="model.pt"):
    return ["--weights", d / name]


DETECT = [
    ("aspect-negative", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--aspect", "-1"], "--aspect", "> 0"),
    ("aspect-nan", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--aspect", "nan"], "--aspect", "finite"),
    ("aspect-zero", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--aspect", "0"], "--aspect", "> 0"),
    ("aspect-inf", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--aspect", "inf"], "--aspect", "finite"),
    ("aspect-text", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--aspect", "wide"], "--aspect",
     "not a number"),
    ("score-nan", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--score-threshold", "nan"],
     "--score-threshold", "finite"),
    ("score-above-1", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--score-threshold", "2"],
     "--score-threshold", "<= 1"),
    ("score-negative", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--score-threshold", "-0.1"],
     "--score-threshold", ">= 0"),
    ("weights-pickle", lambda d, t: [d / "images", *W(d, "w_pickle.pt"), "--out", t / "o"],
     "not a plain weights file", "torch.save"),
    ("weights-truncated", lambda d, t: [d / "images", *W(d, "w_truncated.pt"), "--out", t / "o"], "w_truncated.pt",
     "delete it"),
    ("weights-missing", lambda d, t: [d / "images", *W(d, "none.pt"), "--out", t / "o"], "none.pt", "check the path"),
    ("weights-without-keys", lambda d, t: [d / "images", *W(d, "w_nokeys.pt"), "--out", t / "o"], "w_nokeys.pt",
     "use model.pt"),
    ("stored-width-string", lambda d, t: [d / "images", *W(d, "w_width.pt"), "--out", t / "o"], "width",
     "without quotes"),
    ("stored-aspect-string", lambda d, t: [d / "images", *W(d, "w_aspect.pt"), "--out", t / "o"], "aspect_ratio",
     "without quotes"),
    ("stored-loss-weights-string", lambda d, t: [d / "images", *W(d, "w_loss.pt"), "--out", t / "o"],
     "loss_weights[1]", "without quotes"),
    ("stored-top-k-float", lambda d, t: [d / "images", *W(d, "w_topk.pt"), "--out", t / "o"], "pre_nms_top_k",
     "whole number"),
    ("stored-aspect-nan", lambda d, t: [d / "images", *W(d, "w_nan.pt"), "--out", t / "o"], "aspect_ratio", "finite"),
    ("images-missing", lambda d, t: [d / "none", *W(d), "--out", t / "o"], "none", "give an image file"),
    ("images-none-in-folder", lambda d, t: [d / "no_images", *W(d), "--out", t / "o"], "no_images",
     "holds no .png/.jpg"),
    ("later-image-corrupt", lambda d, t: [d / "late_corrupt", *W(d), "--out", t / "o"], "c.png", "replace or remove"),
    ("out-is-a-file", lambda d, t: [d / "images", *W(d), "--out", d / "a_file"], "--out", "pass a folder"),
    ("out-under-a-file", lambda d, t: [d / "images", *W(d), "--out", d / "a_file" / "o"], "a_file", "folder path"),
    ("out-is-the-image-folder", lambda d, t: [d / "images", *W(d), "--out", d / "images"], "image folder",
     "choose another folder"),
    ("gt-not-json", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--gt", d / "not_json.json"],
     "not_json.json", "COCO-style json"),
    ("gt-lacks-file", lambda d, t: [d / "images", *W(d), "--out", t / "o", "--gt", d / "gt_other.json"], "a.png",
     "drop --gt"),
]


@pytest.mark.parametrize("argv, thing, fix", [row[1:] for row in DETECT], ids=[row[0] for row in DETECT])
def test_csp_detect_refuses(d, tmp_path, refuse, argv, thing, fix):
    refuse(["csp", "detect", *argv(d, tmp_path)], thing, fix, root=tmp_path)


def test_csp_detect_fixture_is_good(d, tmp_path, capsys):
    """The refusals above differ from this accepted call only in the bad part."""
    assert main(["csp", "detect", str(d / "images"), "--weights", str(d / "model.pt"), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "detections.json").is_file()


def C(d, name):
    return [d / f"{name}.json", "--preset", "smoke"]


TRAIN = [(name, (lambda n: lambda d, t: [*C(d, n), "--out", t / "o"])(name), thing, fix) for name, thing, fix in [
    ("lr_string", "lr", "without quotes"), ("steps_float", "steps", "whole number"),
    ("steps_string", "steps", "without quotes"), ("width_string", "detector width", "without quotes"),
    ("aspect_string", "aspect_ratio", "without quotes"), ("loss_string", "loss_weights[0]", "without quotes"),
    ("loss_two", "loss_weights", "three numbers"), ("unknown_key", "learning_rate", "choose one of"),
    ("crop_16", "crop", "multiples of 16"), ("crop_float", "crop[0]", "whole number"), ("lr_negative", "lr", "lr > 0"),
    ("seed_negative", "seed", "2**32"), ("seed_huge", "seed", "2**32"), ("batch_0", "batch_size", ">= 1"),
    ("ema_decay", "ema_decay", "ema_decay < 1"), ("flip_string", "flip_prob", "without quotes"),
    ("augment_list", "augment", "JSON object"), ("synthetic_width", "synthetic width", "without quotes"),
    ("hybrid_1", "hybrid_ratio", "< 1"), ("warmup_int", "ema_warmup", "true or false"),
    ("detector_list", "detector", "JSON object"), ("unknown_detector", "yolo", "choose one of"),
    ("sizes_negative", "sizes.train", ">= 0"), ("list", "list.json", "JSON object"), ("lr_nan", "lr", "finite"),
    ("score_inf", "score_threshold", "finite"),
]] + [
    ("config-missing", lambda d, t: [d / "none.json", "--out", t / "o"], "none.json", "check the path"),
    ("config-not-json", lambda d, t: [d / "not_json.json", "--out", t / "o"], "not_json.json", "not valid JSON"),
    ("preset-unknown", lambda d, t: ["--preset", "huge", "--out", t / "o"], "huge", "choose one of"),
    ("out-is-a-file", lambda d, t: ["--preset", "smoke", "--out", d / "a_file"], "--out", "pass a folder"),
    ("out-under-a-file", lambda d, t: ["--preset", "smoke", "--out", d / "a_file" / "o"], "a_file", "folder path"),
    ("dataset-missing", lambda d, t: ["--preset", "smoke", "--dataset", d / "none", "--out", t / "o"], "none",
     "train_gt.json"),
    ("dataset-without-gt", lambda d, t: ["--preset", "smoke", "--dataset", d / "no_images", "--out", t / "o"],
     "train_gt.json", "needs <split>_gt.json"),
]


@pytest.mark.parametrize("argv, thing, fix", [row[1:] for row in TRAIN], ids=[row[0] for row in TRAIN])
def test_csp_train_refuses(d, tmp_path, refuse, argv, thing, fix):
    refuse(["csp", "train", *argv(d, tmp_path)], thing, fix, root=tmp_path)
