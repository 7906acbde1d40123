"""``evaluate_sources``: metrics of two sources (folders, arrays, statistics, generators) as ``evaluate`` gives them."""

import argparse

import numpy as np
import pytest
import torch
from PIL import Image

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics import compare_sources, evaluate, evaluate_sources, feature_stats, save_stats
from thoughtlab.metrics.cli import add_eval_commands
from thoughtlab.metrics.extractors import get_extractor

pytestmark = pytest.mark.filterwarnings("ignore::thoughtlab.metrics.SmallSampleWarning")


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 1, 28, 28), dtype=np.uint8)
    fake = np.clip(real.astype(int) + rng.integers(-40, 40, real.shape), 0, 255).astype(np.uint8)
    return real, fake


@pytest.fixture(scope="module")
def pixels_features(images):
    extractor = get_extractor("pixels")
    return tuple(extractor.features(x) for x in images)


def same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].get("value") == b[key].get("value"), key


def test_arrays_and_tensors_give_evaluate_on_their_features(images, pixels_features):
    expected = evaluate(*pixels_features, metrics=["fid", "pr", "kid"], seed=1, kid_subsets=5)
    got = evaluate_sources(*images, metrics=["fid", "pr", "kid"], extractor="pixels", seed=1, kid_subsets=5)
    same(got, expected)
    same(evaluate_sources(*(torch.from_numpy(x) for x in images), metrics="fid,pr,kid", extractor="pixels", seed=1,
                          kid_subsets=5), expected)


def test_a_folder_reads_like_its_array(images, tmp_path):
    _, fake = images
    folder = tmp_path / "fake"
    folder.mkdir()
    for index, image in enumerate(fake[:, 0]):
        Image.fromarray(image).save(folder / f"{index:02d}.png")
    from_folder = compare_sources(images[0], folder, ["fid", "dc"], extractor="digit-cnn")
    same(from_folder.metrics, evaluate_sources(*images, ["fid", "dc"], extractor="digit-cnn"))
    assert from_folder.fake["source"] == str(folder) and from_folder.fake["extractor"] == "digit-cnn"


def test_precomputed_features_need_no_extractor(pixels_features):
    got = evaluate_sources(*pixels_features, metrics=["fid"], extractor="no-such-network")  # never built
    assert got["fid"]["value"] == evaluate(*pixels_features, metrics=["fid"])["fid"]["value"]


def test_saved_statistics_give_fid_by_default(images, pixels_features, tmp_path):
    stats = tmp_path / "real.npz"
    save_stats(feature_stats(pixels_features[0]), stats)
    expected = evaluate(*pixels_features, metrics=["fid"])["fid"]["value"]
    from_file = compare_sources(stats, images[1], extractor="pixels")
    assert list(from_file.metrics) == ["fid"] and from_file.real == {"source": str(stats), "saved statistics": True,
                                                                        "n": 40}
    assert from_file.metrics["fid"]["value"] == pytest.approx(expected, rel=1e-9)
    in_memory = evaluate_sources(feature_stats(pixels_features[0]), images[1], extractor="pixels")
    assert in_memory["fid"]["value"] == pytest.approx(expected, rel=1e-9)


def test_a_generator_callable_is_drawn_samples_times(images):
    calls = []

    def sample(n):
        calls.append(n)
        return images[1][sum(calls) - n:sum(calls)]

    record = compare_sources(images[0], sample, ["fid", "msssim"], samples=40, batch_size=16, extractor="pixels")
    assert calls == [16, 16, 8] and record.fake["n"] == 40
    same(record.metrics, evaluate_sources(*images, ["fid", "msssim"], extractor="pixels"))


def test_a_generator_spec_string(images, tmp_path):
    np.save(tmp_path / "fake.npy", images[1])
    (tmp_path / "gen.py").write_text(f"import numpy as np\n\ndef sample(n):\n"
                                     f"    return np.load({str(tmp_path / 'fake.npy')!r})[:n]\n")
    got = evaluate_sources(images[0], f"{tmp_path / 'gen.py'}:sample", ["fid"], samples=40, extractor="pixels")
    assert got["fid"]["value"] == evaluate_sources(*images, ["fid"], extractor="pixels")["fid"]["value"]


def test_float_images_round_to_uint8_unless_kept(images):
    real, fake = images
    floats = (fake + np.where(fake < 255, 0.4, -0.4)).astype(np.float32) / 255  # rounds back to the same uint8
    rounded = evaluate_sources(real, floats, ["fid"], extractor="pixels")["fid"]["value"]
    kept = compare_sources(real, floats, ["fid"], extractor="pixels", float_policy="keep")
    assert rounded == evaluate_sources(real, fake, ["fid"], extractor="pixels")["fid"]["value"]
    assert kept.metrics["fid"]["value"] != rounded and "kept" in kept.fake["conversion"]


def test_inception_score_and_msssim_get_their_inputs(images):
    got = evaluate_sources(*images, ["is", "msssim"], extractor="digit-cnn", is_splits=2)
    assert got["is"]["value"] >= 1.0 and got["is"]["protocol"]["splits"] == 2
    assert 0 < got["msssim"]["value"] < 1 and "real" in got["msssim"]


def test_the_cache_is_written_and_read_only_when_asked(images, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = compare_sources(*images, ["fid"], extractor="pixels", cache_dir=cache)
    assert first.fake["cache"] == "stored" and len(list(cache.glob("*.npz"))) == 2
    again = compare_sources(*images, ["fid"], extractor="pixels", cache_dir=cache)
    assert again.fake["cache"] == "hit" and again.metrics["fid"]["value"] == first.metrics["fid"]["value"]
    monkeypatch.setenv("THOUGHTLAB_CACHE", str(tmp_path / "default"))
    assert compare_sources(*images, ["fid"], extractor="pixels").fake["cache"] == "off"
    assert not (tmp_path / "default").exists()


@pytest.mark.parametrize("real,fake,kwargs,error,match", [
    ("stats", "fake", {"metrics": ["kid"]}, BadInput, "saved FID statistics can only give FID"),
    ("real", "generator", {}, BadInput, "needs samples=N"),
    ("features", "fake features", {"metrics": ["is"]}, BadInput, "class logits"),
    ("real", "fake", {"metrics": ["nope"]}, UnknownName, "unknown metric 'nope'"),
    ("real", "fake", {"metrics": []}, BadInput, "no metric requested"),
    ("real", "fake", {"extractor": "nope"}, UnknownName, "nope"),
    ("real", "floats", {"float_policy": "error"}, BadInput, "float images given"),
    ("real", "fake", {"float_policy": "nope"}, UnknownName, "float policy"),
    ("real", "missing", {}, BadInput, "no such file or folder"),
    ("real", "fake features", {"metrics": ["msssim"]}, BadInput, "MS-SSIM diversity needs FAKE as images"),
])
def test_bad_sources_and_options(images, pixels_features, tmp_path, real, fake, kwargs, error, match):
    stats = tmp_path / "s.npz"
    save_stats(feature_stats(pixels_features[0]), stats)
    sources = {"real": images[0], "fake": images[1], "stats": stats, "features": pixels_features[0],
               "fake features": pixels_features[1], "generator": lambda n: images[1][:n],
               "floats": images[1] / 255.0, "missing": tmp_path / "absent"}
    with pytest.raises(error, match=match):
        evaluate_sources(sources[real], sources[fake], **{"extractor": "pixels", **kwargs})


# ---------------------------------------------------------------- the CLI prints what it printed before
# Printed by `thoughtlab eval` at commit b1c3d24, before the pipeline moved into evaluate_sources.
BEFORE_FEATURES = """\
fid              1.09028
kid              0.503945 ± 0 (every KID subset is the whole set: no spread; pass more samples for one)
precision        0.8375
recall           0.85
density          0.7325
coverage         0.9
realism          median 0.863742 over 80 fakes
real: real.npy (n=80; features: none (precomputed features))
fake: fake.npy (n=80; features: none (precomputed features))
"""
BEFORE_IMAGES = """\
fid              0.485579
precision        1
recall           1
msssim           0.0848746 ± 0.141317  (real data: 0.0920642)
real: real.npy (n=40; features: digit-cnn)
fake: fake.npy (n=40; features: digit-cnn)
"""


def run_cli(*argv):
    parser = argparse.ArgumentParser(prog="thoughtlab")
    add_eval_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *argv])
    args.func(args)


def test_cli_output_is_unchanged(images, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.save("real.npy", rng.normal(size=(80, 6)))
    np.save("fake.npy", rng.normal(size=(80, 6)) * 1.2 + 0.3)
    run_cli("real.npy", "fake.npy", "--metrics", "fid,kid,pr,dc,realism", "--seed", "2")
    assert capsys.readouterr().out == BEFORE_FEATURES
    (tmp_path / "img").mkdir()
    monkeypatch.chdir(tmp_path / "img")
    np.save("real.npy", images[0])
    np.save("fake.npy", images[1])
    run_cli("real.npy", "fake.npy", "--metrics", "fid,pr,msssim", "--no-cache", "--seed", "3")
    assert capsys.readouterr().out == BEFORE_IMAGES
