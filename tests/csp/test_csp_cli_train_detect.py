"""``thoughtlab csp train`` and ``thoughtlab csp detect`` end to end on the smoke preset."""

import json

import pytest

from thoughtlab.cli import main
from thoughtlab.train import save_checkpoint


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    config = out.parent / "cfg.json"
    config.write_text(json.dumps({"steps": 2, "val_every": 2, "checkpoint_every": 2}))
    assert main(["csp", "train", str(config), "--preset", "smoke", "--dataset", "synthetic", "--out", str(out)]) == 0
    return out


def test_train_writes_weights_metrics_and_the_synthetic_data(trained):
    for name in ("checkpoint.pt", "model.pt", "metrics.jsonl", "config.json", "data/train_gt.json", "data/val_gt.json"):
        assert (trained / name).is_file(), name
    assert json.loads((trained / "config.json").read_text())["steps"] == 2


def test_detect_writes_drawn_pngs_and_coco_results(trained, tmp_path, capsys):
    images = trained / "data" / "images" / "val"
    out = tmp_path / "det"
    assert main(["csp", "detect", str(images), "--weights", str(trained / "model.pt"), "--out", str(out),
                 "--score-threshold", "0.0", "--aspect", "0.5"]) == 0
    files = sorted(p.name for p in images.iterdir())
    assert sorted(p.name for p in out.glob("*.png")) == files
    assert (out / files[0]).read_bytes()[:4] == b"\x89PNG"
    results = json.loads((out / "detections.json").read_text())
    assert results, "threshold 0 keeps cells"
    for r in results:
        assert set(r) == {"image_id", "category_id", "bbox", "score"} and r["category_id"] == 1
        assert len(r["bbox"]) == 4 and 0.0 <= r["score"] <= 1.0
    # --aspect 0.5 (boxes clipped at the image border differ)
    assert sum(r["bbox"][2] == pytest.approx(0.5 * r["bbox"][3], abs=0.02) for r in results) > len(results) / 2
    assert json.loads((out / "image_ids.json").read_text()) == {f: i + 1 for i, f in enumerate(files)}
    # ids from the ground truth, then the detections evaluate against it
    gt = trained / "data" / "val_gt.json"
    assert main(["csp", "detect", str(images / files[1]), "--weights", str(trained / "model.pt"),
                 "--out", str(tmp_path / "one"), "--gt", str(gt)]) == 0
    assert json.loads((tmp_path / "one" / "image_ids.json").read_text()) == {files[1]: 2}
    assert main(["csp", "evaluate", str(out / "detections.json"), "--gt", str(gt), "--subsets", "Reasonable"]) == 0


def test_resume_continues_to_more_steps(trained, capsys):
    config = trained.parent / "cfg4.json"
    config.write_text(json.dumps({"steps": 3, "val_every": 2, "checkpoint_every": 2}))
    assert main(["csp", "train", str(config), "--preset", "smoke", "--out", str(trained), "--resume"]) == 0
    assert "trained 3 steps" in capsys.readouterr().out


def test_errors_are_one_line_exit_2(trained, tmp_path, capsys):
    weights = str(trained / "model.pt")
    assert main(["csp", "detect", str(tmp_path / "missing.png"), "--weights", weights, "--out", str(tmp_path)]) == 2
    assert "missing.png" in capsys.readouterr().err
    bad = tmp_path / "imgs"
    bad.mkdir()
    (bad / "broken.png").write_bytes(b"\x89PNG garbage")
    assert main(["csp", "detect", str(bad), "--weights", weights, "--out", str(tmp_path / "o")]) == 2
    assert "broken.png" in capsys.readouterr().err
    not_weights = tmp_path / "other.pt"
    save_checkpoint(not_weights, {"foo": 1})
    images = str(trained / "data" / "images" / "val")
    assert main(["csp", "detect", images, "--weights", str(not_weights), "--out", str(tmp_path / "o")]) == 2
    assert "other.pt" in capsys.readouterr().err
    assert main(["csp", "train", "--preset", "huge", "--out", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    assert "unknown training preset" in err and len(err.strip().splitlines()) == 1
    assert main(["csp", "train", "--preset", "smoke", "--dataset", str(tmp_path / "nope"), "--out", str(tmp_path / "t")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["csp", "train", "--preset", "smoke", "--out", str(trained)]) == 2  # existing run without --resume
    assert "--resume" in capsys.readouterr().err
