"""``thoughtlab eval REAL FAKE`` and ``thoughtlab eval stats INPUT -o OUT``."""

import argparse
import json

import numpy as np
import pytest

from thoughtlab.errors import BadInput, UserError
from thoughtlab.metrics import compute_fid
from thoughtlab.metrics.cli import add_eval_commands
from thoughtlab.metrics.fid import load_stats

pytestmark = pytest.mark.filterwarnings("ignore::thoughtlab.metrics.SmallSampleWarning")


def run(*argv):
    parser = argparse.ArgumentParser(prog="thoughtlab")
    add_eval_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *argv])
    args.func(args)


@pytest.fixture
def arrays(tmp_path):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    fake = np.clip(real.astype(int) + rng.integers(-40, 40, real.shape), 0, 255).astype(np.uint8)
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "fake.npy", fake)
    return tmp_path


def test_compare_prints_a_table_and_writes_json(arrays, capsys):
    out = arrays / "result.json"
    run(str(arrays / "real.npy"), str(arrays / "fake.npy"), "--metrics", "fid,pr,is", "--json", str(out),
        "--cache-dir", str(arrays / "cache"), "--seed", "3")
    printed = capsys.readouterr().out
    assert "fid" in printed and "precision" in printed and "is" in printed and "digit-cnn" in printed
    record = json.loads(out.read_text())
    assert set(record["metrics"]) == {"fid", "precision", "recall", "is"} and record["seed"] == 3
    assert record["real"]["extractor"] == "digit-cnn" and record["fake"]["resize"] == "bilinear-antialias"
    assert record["metrics"]["is"]["value"] >= 1.0


def test_stats_round_trip_gives_the_same_fid(arrays, capsys):
    stats = arrays / "real_stats.npz"
    common = ["--extractor", "random-cnn", "--no-cache"]
    run("stats", str(arrays / "real.npy"), "-o", str(stats), *common)
    with np.load(stats, allow_pickle=False) as data:
        assert {"mu", "sigma", "n", "protocol"} <= set(data.files)
        assert json.loads(str(data["protocol"]))["extractor"] == "random-cnn"
    assert load_stats(stats).mu.shape == (256,)
    from_stats, from_arrays = arrays / "a.json", arrays / "b.json"
    run(str(stats), str(arrays / "fake.npy"), "--json", str(from_stats), *common)
    run(str(arrays / "real.npy"), str(arrays / "fake.npy"), "--metrics", "fid", "--json", str(from_arrays), *common)
    a, b = (json.loads(p.read_text())["metrics"]["fid"]["value"] for p in (from_stats, from_arrays))
    assert a == pytest.approx(b, rel=1e-9)


def test_precomputed_features_skip_the_extractor(tmp_path, capsys):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(50, 6)), rng.normal(size=(50, 6)) + 1
    np.save(tmp_path / "r.npy", real)
    np.save(tmp_path / "f.npy", fake)
    run(str(tmp_path / "r.npy"), str(tmp_path / "f.npy"), "--metrics", "fid", "--json", str(tmp_path / "o.json"))
    value = json.loads((tmp_path / "o.json").read_text())["metrics"]["fid"]["value"]
    assert value == pytest.approx(compute_fid(real, fake)["value"], rel=1e-12)
    assert "precomputed" in capsys.readouterr().out


def test_msssim_uses_the_images_without_an_extractor(arrays, capsys, monkeypatch):
    monkeypatch.setenv("THOUGHTLAB_INCEPTION_WEIGHTS", str(arrays / "absent.pth"))  # never loaded for msssim
    out = arrays / "m.json"
    run(str(arrays / "real.npy"), str(arrays / "fake.npy"), "--metrics", "msssim", "--json", str(out))
    record = json.loads(out.read_text())
    assert 0 < record["metrics"]["msssim"]["value"] < 1 and "value" in record["metrics"]["msssim"]["real"]
    assert "real data" in capsys.readouterr().out and record["fake"]["conversion"] == "none"


def test_usage_errors_are_user_errors(arrays):
    real, fake = str(arrays / "real.npy"), str(arrays / "fake.npy")
    with pytest.raises(UserError, match="REAL FAKE"):
        run(real, fake, real)
    with pytest.raises(UserError, match="usage: thoughtlab eval stats"):
        run("stats", real)
    with pytest.raises(UserError, match="--json"):
        run(real, fake, "-o", "x.npz")
    with pytest.raises(BadInput, match="class logits"):
        run(real, fake, "--metrics", "is", "--extractor", "pixels", "--no-cache")
    with pytest.raises(BadInput, match="already holds FID statistics"):
        np.savez(arrays / "s.npz", mu=np.zeros(2), sigma=np.eye(2))
        run("stats", str(arrays / "s.npz"), "-o", str(arrays / "t.npz"))


def test_wired_into_the_thoughtlab_command(arrays, capsys):
    from thoughtlab.cli import build_parser, main

    try:
        build_parser().parse_args(["eval", "a", "b"])
    except SystemExit:
        pytest.skip("thoughtlab.cli does not wire `eval` yet")
    capsys.readouterr()
    assert main(["eval", str(arrays / "real.npy"), "--no-cache"]) == 2
    assert "REAL FAKE" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), str(arrays / "fake.npy"), "--metrics", "fid", "--no-cache"]) == 0


SAMPLER = """
import numpy as np

def sample(n):
    rng = np.random.default_rng(n)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)

def wrong(n):
    return [1, 2, 3]
"""


def test_a_generator_as_fake_through_the_thoughtlab_command(arrays, capsys):
    from thoughtlab.cli import main

    (arrays / "sampler.py").write_text(SAMPLER)
    spec, out = f"{arrays / 'sampler.py'}:sample", arrays / "g.json"
    args = [str(arrays / "real.npy"), spec, "--metrics", "fid,msssim", "--no-cache", "--json", str(out)]
    assert main(["eval", *args, "--samples", "30", "--batch-size", "8"]) == 0
    record = json.loads(out.read_text())
    assert record["fake"]["source"] == f"generator {spec}" and record["fake"]["n"] == 30
    assert record["metrics"]["msssim"]["protocol"]["n_fake"] == 30
    capsys.readouterr()
    assert main(["eval", *args]) == 2
    assert "is a generator; pass --samples N" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), f"{arrays / 'sampler.py'}:wrong", "--samples", "3"]) == 2
    assert "returned a list" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), f"{arrays / 'sampler.py'}:absent", "--samples", "3"]) == 2
    assert "has no attribute 'absent'" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), f"{arrays / 'nofile.py'}:sample", "--samples", "3"]) == 2
    assert "nofile.py not found" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), str(arrays / "fake.npy"), "--samples", "3"]) == 2
    assert "--samples applies to generator inputs" in capsys.readouterr().err
    assert main(["eval", str(arrays / "real.npy"), spec, "--samples", "0"]) == 2
    assert "--samples must be at least 1" in capsys.readouterr().err


def test_a_folder_named_like_a_generator_is_read_as_a_folder(arrays, capsys):
    from PIL import Image

    from thoughtlab.cli import main

    folder = arrays / "sampler.py:sample"  # exists, so it is a folder even though it reads as a generator spec
    folder.mkdir()
    for index, image in enumerate(np.load(arrays / "fake.npy")[:, 0]):
        Image.fromarray(image).save(folder / f"{index:02d}.png")
    assert main(["eval", str(arrays / "real.npy"), str(folder), "--metrics", "fid", "--no-cache",
                 "--json", str(arrays / "d.json")]) == 0
    record = json.loads((arrays / "d.json").read_text())
    assert record["fake"]["source"] == str(folder) and record["fake"]["n"] == 40


def test_table_explains_the_kid_and_gs_spreads(tmp_path, capsys):
    rng = np.random.default_rng(2)
    np.save(tmp_path / "r.npy", rng.normal(size=(80, 4)))
    np.save(tmp_path / "f.npy", rng.normal(size=(80, 4)) + 0.5)
    run(str(tmp_path / "r.npy"), str(tmp_path / "f.npy"), "--metrics", "kid,gs", "--json", str(tmp_path / "o.json"))
    printed = capsys.readouterr().out
    kid_line = next(line for line in printed.splitlines() if line.startswith("kid"))
    gs_line = next(line for line in printed.splitlines() if line.startswith("gs"))
    assert "± 0 (every KID subset is the whole set" in kid_line
    assert " ± " in gs_line and "bootstrap over 100 landmark iterations" in gs_line
    record = json.loads((tmp_path / "o.json").read_text())["metrics"]
    assert record["gs"]["std"] > 0 and record["gs"]["protocol"]["bootstrap"] == 200
