"""``thoughtlab csp evaluate`` end to end on a tiny written ground truth."""

import json

from thoughtlab.cli import main
from thoughtlab.csp.datasets import PedestrianSet, make_image, write_coco

PERSON = [100.0, 100.0, 41.0, 100.0]


def write_fixture(tmp_path):
    images = [make_image(1, "1.png", 640, 480, [PERSON]), make_image(2, "2.png", 640, 480, [])]
    gt = tmp_path / "gt.json"
    write_coco(PedestrianSet("fixture", images), gt)
    detections = tmp_path / "dets.json"
    detections.write_text(json.dumps([
        {"image_id": 1, "category_id": 1, "bbox": PERSON, "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [300, 100, 41, 100], "score": 0.5},
    ]))
    return gt, detections


def test_evaluate_prints_table_and_writes_json_and_plot(tmp_path, capsys):
    gt, detections = write_fixture(tmp_path)
    out = tmp_path / "out"
    assert main(["csp", "evaluate", str(detections), "--gt", str(gt), "--subsets", "Reasonable", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Reasonable" in printed
    summary = json.loads((out / "mr2.json").read_text())
    # the person is found before the only false positive: full recall at every FPPI reference -> MR-2 = 0
    assert summary["subsets"]["Reasonable"]["mr2"] == 0.0
    assert (out / "miss_rate.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_errors_exit_2(tmp_path, capsys):
    gt, detections = write_fixture(tmp_path)
    assert main(["csp", "evaluate", str(tmp_path / "none.json"), "--gt", str(gt)]) == 2
    assert "detections" in capsys.readouterr().err
    assert main(["csp", "evaluate", str(detections), "--gt", str(gt), "--subsets", "Tiny"]) == 2
    assert "unknown" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("[{\"image_id\": 1}]")
    assert main(["csp", "evaluate", str(tmp_path / "bad.json"), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err
