"""CityPersons / Caltech loaders, the COCO-style writer and their one-line errors, on fixture files written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from thoughtlab.csp.datasets import (
    load_annotations,
    load_caltech_txt,
    load_citypersons_coco,
    load_citypersons_json,
    load_citypersons_mat,
    with_min_height,
    write_coco,
)
from thoughtlab.csp.evaluate import evaluate_miss_rate
from thoughtlab.errors import BadInput

VAL_GT = {
    "images": [{"id": 1, "im_name": "a_leftImg8bit.png", "height": 1024, "width": 2048},
               {"id": 2, "im_name": "b_leftImg8bit.png", "height": 1024, "width": 2048}],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 41, 100], "vis_bbox": [10, 20, 41, 50],
         "height": 100, "vis_ratio": 0.5, "ignore": 0, "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 1, "bbox": [300, 20, 80, 60], "vis_bbox": [0, 0, 0, 0],
         "height": 60, "vis_ratio": 0.0, "ignore": 1, "iscrowd": 0},
        {"id": 3, "image_id": 1, "category_id": 3, "bbox": [500, 20, 41, 100]},
        {"id": 4, "image_id": 2, "category_id": 1, "bbox": [50, 60, 41, 100], "vis_bbox": [50, 60, 41, 100],
         "height": 48, "vis_ratio": 0.9, "ignore": 0}],
    "categories": [{"id": 1, "name": "pedestrian"}]}


def write_json(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def test_coco_val_json_keeps_category_one_and_reads_height_and_vis_ratio_fields(tmp_path):
    ds = load_citypersons_coco(write_json(tmp_path / "val_gt.json", VAL_GT))
    first, second = ds.images
    assert ds.image_ids() == [1, 2] and first.file_name == "a_leftImg8bit.png" and (first.width, first.height) == (2048, 1024)
    assert len(first) == 2                                   # category 3 dropped entirely
    assert first.ignore.tolist() == [False, True] and first.visibility.tolist() == [0.5, 0.0]
    assert second.heights.tolist() == [48.0] and second.boxes[0, 3] == 100   # the height field wins


def test_gtbbox_citypersons_folder_maps_labels_to_ignore_and_accepts_amodal_keys(tmp_path):
    root = tmp_path / "gtBboxCityPersons" / "val"
    write_json(root / "zurich" / "zurich_000001_000019_gtBboxCityPersons.json", {
        "imgWidth": 2048, "imgHeight": 1024, "objects": [
            {"label": "pedestrian", "bbox": [10, 20, 41, 100], "bboxVis": [10, 20, 41, 25], "instanceId": 24000},
            {"label": "rider", "bbox": [100, 20, 41, 100], "bboxVis": [100, 20, 41, 100], "instanceId": 25000},
            {"label": "person group", "bbox": [200, 20, 90, 80], "bboxVis": [0, 0, 0, 0], "instanceId": 0}]})
    write_json(root / "aachen" / "aachen_000000_000019_gtBboxCityPersons.json", {
        "imgWidth": 2048, "imgHeight": 1024, "objects": [
            {"label": "ignore", "amodal": [5, 5, 30, 30], "modal": [5, 5, 30, 30]}]})
    ds = load_citypersons_json(root)
    aachen, zurich = ds.images
    assert ds.image_ids() == [1, 2] and aachen.file_name == "aachen/aachen_000000_000019_leftImg8bit.png"
    assert zurich.labels == ("pedestrian", "rider", "person group")
    assert zurich.ignore.tolist() == [False, True, True] and zurich.visibility.tolist() == [0.25, 1.0, 0.0]
    assert aachen.ignore.tolist() == [True]
    single = load_annotations(root / "aachen" / "aachen_000000_000019_gtBboxCityPersons.json")
    assert single.images[0].file_name == "aachen_000000_000019_leftImg8bit.png"


CALTECH = """% bbGt version=3
person 100 50 41 100 0 0 0 0 0 0 0
person 200 50 41 100 1 200 50 41 50 0 0
person 300 50 41 100 1 300 50 41 100 0 0
people 400 50 80 100 0 0 0 0 0 1 0
ignore 500 50 41 100 0 0 0 0 0 0 0
person? 550 50 41 100 1 0 0 0 0 0 0
"""


def test_caltech_bbgt_text_reads_ignore_flags_and_the_toolbox_visibility_rule(tmp_path):
    folder = tmp_path / "anno_test_1xnew"
    folder.mkdir()
    (folder / "set06_V000_I00029.jpg.txt").write_text(CALTECH)
    (folder / "set06_V000_I00059.jpg.txt").write_text("% bbGt version=3\n")
    ds = load_caltech_txt(folder)
    image, empty = ds.images
    assert image.file_name == "set06_V000_I00029.jpg" and (image.width, image.height) == (640, 480)
    assert image.labels == ("person", "person", "person", "people", "ignore", "person?")
    assert image.ignore.tolist() == [False, False, False, True, True, False]
    assert image.visibility.tolist() == [1.0, 0.5, 0.0, 1.0, 1.0, 1.0]
    assert len(empty) == 0 and empty.boxes.shape == (0, 4)
    (folder / "set00_V000_I00002.txt").write_text(CALTECH)
    assert load_caltech_txt(folder / "set00_V000_I00002.txt").images[0].file_name == "set00_V000_I00002.jpg"


def test_any_loaded_set_round_trips_through_the_coco_writer_and_evaluates(tmp_path):
    folder = tmp_path / "caltech"
    folder.mkdir()
    (folder / "set06_V000_I00029.jpg.txt").write_text(CALTECH)
    ds = load_annotations(folder)
    write_coco(ds, tmp_path / "out" / "gt.json")
    back = load_annotations(tmp_path / "out" / "gt.json")
    a, b = ds.images[0], back.images[0]
    for name in ("boxes", "vis_boxes", "heights", "visibility", "ignore"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.labels == b.labels and (a.image_id, a.file_name) == (b.image_id, b.file_name)
    ids = [ann["id"] for ann in json.loads((tmp_path / "out" / "gt.json").read_text())["annotations"]]
    assert min(ids) == 1 and len(set(ids)) == len(ids)
    perfect = [{"image_id": 1, "bbox": box.tolist(), "score": 1.0} for box in a.boxes[~a.ignore]]
    ev = evaluate_miss_rate(tmp_path / "out" / "gt.json", perfect, ["Reasonable", "All"])
    assert ev.mr2("Reasonable") == 0.0 and ev.subsets["Reasonable"].n_positives == 2   # v = 0 one is not reasonable


def test_training_policy_turns_short_people_into_ignore_regions(tmp_path):
    ds = with_min_height(load_citypersons_coco(write_json(tmp_path / "gt.json", VAL_GT)), 50)
    assert ds.images[0].ignore.tolist() == [False, True] and ds.images[1].ignore.tolist() == [False]
    tall = with_min_height(ds, 101)
    assert tall.images[0].ignore.tolist() == [True, True]


@pytest.mark.parametrize("content, field", [
    ("{not json", "not valid JSON"),
    ({"images": []}, "annotations is missing"),
    ({"images": [{"id": 1}], "annotations": [{"image_id": 1, "bbox": [1, 2, 3]}]}, r"annotations\[0\]\.bbox"),
    ({"images": [{"id": 1}], "annotations": [{"image_id": 9, "bbox": [1, 2, 3, 4]}]}, r"annotations\[0\]\.image_id"),
    ({"images": [{"id": 1}], "annotations": [{"image_id": 1, "bbox": [1, 2, 3, 4], "vis_ratio": "x"}]},
     r"annotations\[0\]\.vis_ratio"),
    ({"images": [{"id": 1}, {"id": 1}], "annotations": []}, r"images\[1\]\.id"),
    ({"imgWidth": 10, "imgHeight": 10, "objects": [{"label": "cyclist", "bbox": [1, 2, 3, 4]}]},
     r"objects\[0\]\.label"),
    ({"imgWidth": 10, "imgHeight": 10, "objects": [{"label": "pedestrian", "bbox": [1, 2, 3, 4]}]},
     r"objects\[0\]\.bboxVis is missing"),
    ({"imgHeight": 10, "objects": []}, "imgWidth is missing"),
])
def test_malformed_json_names_file_and_field(tmp_path, content, field):
    path = tmp_path / "broken.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(BadInput, match=field) as err:
        load_annotations(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content, field", [
    ("person 1 2 3 4 0 0 0 0 0 0 0\n", "header"),
    ("% bbGt version=3\nperson 1 2 3 4 0\n", "line 2 has 6 fields"),
    ("% bbGt version=3\nperson 1 2 three 4 0 0 0 0 0 0 0\n", "line 2"),
])
def test_malformed_caltech_text_names_file_and_line(tmp_path, content, field):
    path = tmp_path / "set06_V000_I00029.jpg.txt"
    path.write_text(content)
    with pytest.raises(BadInput, match=field) as err:
        load_annotations(path)
    assert str(path) in str(err.value)


def test_missing_paths_and_empty_folders_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        load_annotations(tmp_path / "nowhere.json")
    with pytest.raises(BadInput, match="no \\*.txt"):
        load_annotations(tmp_path)


def _write_anno_mat(path: Path, rows_per_image: list[list[list[float]]], key: str = "anno_val_aligned") -> Path:
    from scipy.io import savemat

    cells = np.empty((1, len(rows_per_image)), dtype=object)
    for i, rows in enumerate(rows_per_image):
        cells[0, i] = {"cityname": "frankfurt", "im_name": f"frankfurt_000000_{i:06d}_leftImg8bit.png",
                       "bbs": np.array(rows, dtype=np.float64).reshape(-1, 10)}
    savemat(path, {key: cells})
    return path


def test_citypersons_mat_uses_the_class_label_for_ignore(tmp_path):
    rows = [[1, 10, 20, 41, 100, 24001, 10, 20, 41, 50],
            [2, 100, 20, 41, 100, 24002, 100, 20, 41, 100],    # a rider with a person instance id
            [5, 200, 20, 90, 80, 0, 0, 0, 0, 0],
            [0, 300, 20, 30, 30, 0, 300, 20, 30, 30]]
    ds = load_annotations(_write_anno_mat(tmp_path / "anno_val.mat", [rows, [rows[0]], []]))
    first, single, empty = ds.images
    assert ds.image_ids() == [1, 2, 3] and first.file_name == "frankfurt/frankfurt_000000_000000_leftImg8bit.png"
    assert first.labels == ("pedestrian", "rider", "person group", "ignore")
    assert first.ignore.tolist() == [False, True, True, True] and first.visibility[0] == 0.5
    assert len(single) == 1 and len(empty) == 0 and (first.width, first.height) == (2048, 1024)


def test_malformed_citypersons_mat_names_the_field(tmp_path):
    bad = _write_anno_mat(tmp_path / "bad.mat", [[[9, 1, 2, 3, 4, 0, 0, 0, 0, 0]]])
    with pytest.raises(BadInput, match=r"anno_val_aligned\[0\]\.bbs"):
        load_citypersons_mat(bad)
    other = _write_anno_mat(tmp_path / "other.mat", [[]], key="boxes")
    with pytest.raises(BadInput, match="anno_"):
        load_citypersons_mat(other)
    (tmp_path / "junk.mat").write_bytes(b"not a mat file")
    with pytest.raises(BadInput, match="junk.mat"):
        load_citypersons_mat(tmp_path / "junk.mat")


def test_coco_without_visibility_fields_counts_people_as_fully_visible(tmp_path):
    minimal = {"images": [{"id": 3}], "annotations": [{"image_id": 3, "bbox": [1, 2, 41, 100]},
                                                       {"image_id": 3, "bbox": [1, 2, 41, 100],
                                                        "vis_bbox": [1, 2, 41, 25]}]}
    image = load_citypersons_coco(write_json(tmp_path / "gt.json", minimal)).images[0]
    assert image.visibility.tolist() == [1.0, 0.25] and image.heights.tolist() == [100.0, 100.0]
    assert image.ignore.tolist() == [False, False] and image.file_name == "3"
