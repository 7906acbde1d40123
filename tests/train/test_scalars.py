import json

import torch

from thoughtlab.train import ScalarLogger


def test_jsonl_lines_are_written_and_flushed(tmp_path):
    path = tmp_path / "logs" / "metrics.jsonl"
    logger = ScalarLogger(path)
    logger.log(step=0, loss=1.5, acc=torch.tensor(0.25))
    assert json.loads(path.read_text()) == {"step": 0, "loss": 1.5, "acc": 0.25}  # flushed before close
    logger(loss=float("nan"))  # callable like ctx.log; step from the call count; NaN -> null
    logger.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[1] == {"step": 1, "loss": None}


def test_appends_and_context_manager(tmp_path):
    path = tmp_path / "m.jsonl"
    with ScalarLogger(path) as logger:
        logger.log(5, x=1)
    with ScalarLogger(path) as logger:
        logger.log(6, x=2)
    assert [json.loads(line)["x"] for line in path.read_text().splitlines()] == [1.0, 2.0]


def test_tensorboard_mirror_is_optional(tmp_path):
    try:
        import tensorboard  # noqa: F401
        present = True
    except ImportError:
        present = False
    with ScalarLogger(tmp_path / "m.jsonl", tensorboard_dir=tmp_path / "tb") as logger:
        logger.log(0, loss=1.0)
        assert logger.tensorboard is present
    assert (tmp_path / "m.jsonl").read_text().count("\n") == 1


def test_one_jsonl_writer_for_run_records_too(tmp_path):
    from thoughtlab.runs import LocalContext
    from thoughtlab.train import append_jsonl, jsonl_line

    assert jsonl_line({"seed": 3, "step": None, "x": float("-inf"), "y": torch.tensor(2.5), "name": "a"}) == \
        '{"seed": 3, "step": null, "x": null, "y": 2.5, "name": "a"}\n'
    append_jsonl(tmp_path / "a.jsonl", {"loss": float("nan")})
    append_jsonl(tmp_path / "a.jsonl", {"loss": 1})
    assert (tmp_path / "a.jsonl").read_text() == '{"loss": null}\n{"loss": 1}\n'
    ctx = LocalContext(0, "smoke", tmp_path / "run")
    ctx.log(2, loss=float("nan"), acc=0.5)
    text = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert "NaN" not in text
    line = json.loads(text)
    assert (line["seed"], line["step"], line["loss"], line["acc"]) == (0, 2, None, 0.5)
