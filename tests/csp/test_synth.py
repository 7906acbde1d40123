"""Synthetic pedestrian scenes: exact ground truth, determinism, presets, the CityPersons json layout."""

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from thoughtlab.csp.synth import (Annotation, SceneConfig, draw_annotations, generate_scene, make_dataset, preset,
                                  scene_rng, split_statistics, write_split)
from thoughtlab.csp.synth_people import Sprite, render_person, sample_pose
from thoughtlab.csp.synth_scene import Canvas, visibility_from_labels
from thoughtlab.errors import BadInput, UnknownName, UserError

SIZE = (320, 240)


def _scenes(name: str, n: int, seed: int = 0, **changes):
    config = replace(preset(name, *SIZE), **changes)
    return [generate_scene(scene_rng(seed, "test", i), config) for i in range(n)], config


@pytest.fixture(scope="module")
def default_scenes():
    return _scenes("default", 24)


@pytest.fixture(scope="module")
def shifted_scenes():
    return _scenes("shifted", 24)


def _mask_box(x0, y0, mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return x0 + cols[0], y0 + rows[0], x0 + cols[-1] + 1, y0 + rows[-1] + 1


def test_same_seed_gives_bit_identical_scenes():
    config = preset("default", *SIZE)
    a, b = (generate_scene(scene_rng(7, "train", 3), config) for _ in range(2))
    assert a.image.dtype == np.uint8 and a.image.shape == (240, 320, 3)
    assert a.image.tobytes() == b.image.tobytes()
    assert a.annotations == b.annotations
    other = generate_scene(scene_rng(7, "train", 4), config)
    assert other.image.tobytes() != a.image.tobytes()


@pytest.mark.parametrize("name", ["default", "shifted"])
def test_full_boxes_are_tight_around_the_drawn_person(name, default_scenes, shifted_scenes):
    scenes = default_scenes[0] if name == "default" else shifted_scenes[0]
    checked = 0
    for scene in scenes:
        for ann, (x0, y0, mask) in zip(scene.annotations, scene.masks):
            mx0, my0, mx1, my1 = _mask_box(x0, y0, mask)
            x, y, w, h = ann.box
            assert (my0, my1) == (y, y + h)                       # exact vertically
            assert x - 1 <= mx0 and mx1 <= x + w + 1              # inside horizontally (1 px rasterisation)
            if ann.kind == "person":
                assert abs((mx1 - mx0) - w) <= 2                  # and tight within 2 px
            else:
                assert (mx0, mx1) == (x, x + w)                   # a group's ignore box is its union's box
            checked += 1
    assert checked > 50


def test_default_full_boxes_have_the_citypersons_aspect(default_scenes):
    people = [a for s in default_scenes[0] for a in s.annotations if a.kind == "person"]
    assert people and all(abs(a.box[2] / a.box[3] - 0.41) < 1e-9 for a in people)


@pytest.mark.parametrize("name", ["default", "shifted"])
def test_heights_and_aspects_stay_in_the_configured_ranges(name, default_scenes, shifted_scenes):
    scenes, config = default_scenes if name == "default" else shifted_scenes
    lo, hi = config.person_height
    people = [a for s in scenes for a in s.annotations if a.kind == "person"]
    heights = np.array([a.box[3] for a in people])
    aspects = np.array([a.box[2] / a.box[3] for a in people])
    assert heights.min() >= lo - 2 and heights.max() <= min(hi, 0.95 * config.height) + 2
    assert aspects.min() >= config.aspect[0] - 1e-9 and aspects.max() <= config.aspect[1] + 1e-9
    for scene in scenes:   # people lie inside the image
        for ann in scene.annotations:
            assert ann.box[1] >= 0 and ann.box[1] + ann.box[3] <= config.height


def _occluder(h, w):
    return Sprite(np.full((h, w, 3), 200, np.uint8), np.ones((h, w), bool))


def test_visibility_is_the_unoccluded_share_of_the_mask_under_a_hand_placed_occluder():
    rng = np.random.default_rng(0)
    person = render_person(rng, 100, 0.41, sample_pose(rng, 0.0, 0.0))
    mask = person.sprite.mask
    canvas = Canvas(np.zeros((200, 200, 3), np.uint8))
    canvas.paste(person.sprite, 50, 30, owner=1)
    visibility, vis_box = visibility_from_labels(canvas.labels, 1, 50, 30, mask)
    assert visibility == 1.0 and vis_box == tuple(float(v) for v in (50, 30, mask.shape[1], mask.shape[0]))
    canvas.paste(_occluder(100, 200), 0, 30 + 60, owner=-1)        # hides rows 60.. of the person
    visibility, vis_box = visibility_from_labels(canvas.labels, 1, 50, 30, mask)
    assert visibility == pytest.approx(mask[:60].sum() / mask.sum(), abs=1e-12)
    x0, y0, x1, y1 = _mask_box(50, 30, mask[:60])
    assert vis_box == (x0, y0, x1 - x0, y1 - y0)
    canvas.paste(_occluder(200, 20), 50, 0, owner=-1)              # and columns 0..19
    visibility, _ = visibility_from_labels(canvas.labels, 1, 50, 30, mask)
    assert visibility == pytest.approx(mask[:60, 20:].sum() / mask.sum(), abs=1e-12)


def test_unoccluded_person_has_visibility_one_and_scene_visibility_matches_masks(default_scenes):
    config = replace(preset("default", *SIZE), people=(1, 1), empty_fraction=0.0, crowd_probability=0.0,
                     group_probability=0.0, occlusion_probability=0.0, distractors=(0, 0))
    scene = generate_scene(scene_rng(0, "solo", 0), config)
    (ann,) = scene.annotations
    x0, y0, mask = scene.masks[0]
    mx0, my0, mx1, my1 = _mask_box(x0, y0, mask)
    assert ann.visibility == 1.0 and ann.vis_box == (mx0, my0, mx1 - mx0, my1 - my0) and not ann.ignore
    visibilities = []
    for s in default_scenes[0]:
        for ann, owner, (x0, y0, mask) in zip(s.annotations, s.owners, s.masks):
            if ann.kind == "person":
                h, w = mask.shape
                shown = (s.labels[y0:y0 + h, x0:x0 + w] == owner) & mask
                assert ann.visibility == pytest.approx(shown.sum() / mask.sum(), abs=1e-12)
                assert ann.ignore == (ann.visibility < config.min_visibility)
                visibilities.append(ann.visibility)
    v = np.array(visibilities)
    assert (v == 1.0).any() and ((v > 0.2) & (v < 0.65)).any() and (v > 0).all()   # occlusion happens


def test_ignore_groups_appear_only_when_configured():
    with_groups, _ = _scenes("default", 6, group_probability=1.0, empty_fraction=0.0)
    for scene in with_groups:
        groups = [a for a in scene.annotations if a.kind == "group"]
        assert len(groups) == 1 and groups[0].ignore and groups[0].vis_box == (0.0, 0.0, 0.0, 0.0)
    without, _ = _scenes("default", 6, group_probability=0.0)
    assert not any(a.kind == "group" for s in without for a in s.annotations)


def test_distractors_are_drawn_but_never_annotated():
    scenes, _ = _scenes("default", 5, people=(0, 0), crowd_probability=0.0, group_probability=0.0,
                        empty_fraction=0.0, distractors=(6, 6))
    for scene in scenes:
        assert scene.annotations == []
        assert (scene.labels == -1).any() and not (scene.labels > 0).any()


def test_shifted_preset_shifts_height_and_aspect(default_scenes, shifted_scenes):
    base = split_statistics(default_scenes[0])
    shifted = split_statistics(shifted_scenes[0])
    assert shifted["height_quantiles"]["q50"] >= 1.5 * base["height_quantiles"]["q50"]
    assert shifted["height_quantiles"]["q05"] >= 2.0 * base["height_quantiles"]["q05"]
    assert base["aspect_mean"] == pytest.approx(0.41) and shifted["aspect_mean"] >= 0.5


def test_split_json_has_the_citypersons_layout_and_round_trips(tmp_path):
    config = preset("default", 160, 120)
    path = write_split(tmp_path, "val", 4, seed=3, config=config)
    assert path == tmp_path / "val_gt.json"
    data = json.loads(path.read_text())
    assert {"images", "annotations", "categories"} <= set(data)
    assert [c["id"] for c in data["categories"]] == [0, 1, 2, 3, 4, 5]
    assert [im["id"] for im in data["images"]] == [1, 2, 3, 4]
    fields = {"id", "image_id", "category_id", "bbox", "vis_bbox", "height", "vis_ratio", "ignore", "iscrowd", "label"}
    anns = data["annotations"]
    assert anns and all(set(a) == fields for a in anns)
    assert [a["id"] for a in anns] == list(range(1, len(anns) + 1))
    assert all(a["category_id"] == 1 and a["height"] == a["bbox"][3] and len(a["vis_bbox"]) == 4 for a in anns)
    for index, im in enumerate(data["images"]):
        pixels = np.asarray(Image.open(tmp_path / "images" / "val" / im["im_name"]).convert("RGB"))
        scene = generate_scene(scene_rng(3, "val", index), config)
        assert (im["width"], im["height"]) == (160, 120) and np.array_equal(pixels, scene.image)
        mine = [a for a in anns if a["image_id"] == im["id"]]
        assert [a["vis_ratio"] for a in mine] == [round(a.visibility, 4) for a in scene.annotations]
    again = write_split(tmp_path / "again", "val", 4, seed=3, config=config)
    assert json.loads(again.read_text())["annotations"] == anns
    assert (tmp_path / "images/val/val_000002.png").read_bytes() == (tmp_path / "again/images/val/val_000002.png").read_bytes()


def test_the_evaluator_reads_a_split_and_scores_perfect_detections_zero(tmp_path):
    from thoughtlab.csp.evaluate import evaluate_miss_rate

    paths = make_dataset(tmp_path, {"test": 6}, seed=1, preset="default", width=320, height=240)
    data = json.loads(paths["test"].read_text())
    dets = [{"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 1.0}
            for a in data["annotations"] if not a["ignore"]]
    result = evaluate_miss_rate(paths["test"], dets, subsets=["Reasonable"])
    assert result.mr2("Reasonable") == 0.0


def test_bad_input_is_reported():
    with pytest.raises(UnknownName, match="preset"):
        preset("crowded")
    with pytest.raises(BadInput):
        SceneConfig(person_height=(50.0, 10.0)).validate()


def test_unwritable_folder_and_bad_split_names_are_user_errors(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="writable"):
        write_split(blocker / "data", "train", 1, config=preset("default", 96, 64))
    with pytest.raises(BadInput, match="split name"):
        write_split(tmp_path, "../up", 1)
    with pytest.raises(BadInput):
        write_split(tmp_path, "train", -1)


def test_draw_annotations_marks_boxes_without_touching_the_input():
    scene = generate_scene(scene_rng(0, "draw", 0), preset("default", 160, 120))
    before = scene.image.copy()
    drawn = draw_annotations(scene.image, scene.annotations + [Annotation((10, 10, 20, 40), (10, 10, 20, 20), 0.5, False)])
    assert np.array_equal(scene.image, before) and not np.array_equal(drawn, before)
    assert tuple(drawn[10, 15]) == (255, 0, 0) or tuple(drawn[10, 15]) == (0, 255, 0)
