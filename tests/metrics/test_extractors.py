"""Feature extractors: preprocessing made explicit, the shipped digit CNN, random CNN, pixels, user modules."""

import numpy as np
import pytest
import torch
from torch import nn

from thoughtlab.data import load_dataset
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics.extractors import (
    DIGIT_WEIGHTS,
    DigitCNNExtractor,
    InceptionExtractor,
    ModuleExtractor,
    PixelExtractor,
    RandomCNNExtractor,
    get_extractor,
    load_digit_cnn,
    match_channels,
    resize,
    to_unit_float,
)
from thoughtlab.nets.inception import WEIGHTS_ENV, FIDInceptionV3


@pytest.fixture(scope="module")
def digits():
    split = load_dataset("mnist5k")
    return np.rint(split.x_test[:300] * 255).astype(np.uint8), split.y_test[:300]


def test_unit_float_scales_uint8_and_checks_floats():
    assert torch.equal(to_unit_float(np.full((1, 1, 2, 2), 255, np.uint8)), torch.ones(1, 1, 2, 2))
    with pytest.raises(BadInput, match=r"\[0, 1\].*divide"):
        to_unit_float(np.full((1, 1, 2, 2), 3.0))
    with pytest.raises(BadInput, match="NaN"):
        to_unit_float(np.full((1, 1, 2, 2), np.nan))
    with pytest.raises(BadInput, match="dtype"):
        to_unit_float(np.zeros((1, 1, 2, 2), np.int16))
    with pytest.raises(BadInput, match=r"\(N, C, H, W\)"):
        to_unit_float(np.zeros((2, 2), np.uint8))


def test_channel_conversion_is_explicit():
    gray = torch.rand(2, 1, 4, 4)
    rgb = match_channels(gray, 3)
    assert rgb.shape == (2, 3, 4, 4) and torch.equal(rgb[:, 2:], gray)
    torch.testing.assert_close(match_channels(rgb, 1), gray)  # luma weights sum to 1
    with pytest.raises(BadInput, match="4 channels"):
        match_channels(torch.rand(1, 4, 2, 2), 3)


def test_resize_methods_differ_and_none_refuses():
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    outs = {m: resize(x, 16, m) for m in ("bilinear", "bilinear-antialias", "pil-bicubic")}
    assert all(o.shape == (2, 3, 16, 16) for o in outs.values())
    assert not torch.allclose(outs["bilinear"], outs["bilinear-antialias"], atol=1e-3)
    assert not torch.allclose(outs["bilinear-antialias"], outs["pil-bicubic"], atol=1e-3)
    torch.testing.assert_close(resize(torch.full((1, 1, 8, 8), 0.25), 5, "pil-bicubic"), torch.full((1, 1, 5, 5), 0.25))
    assert resize(x, 64, "none") is x
    with pytest.raises(BadInput, match="resize is 'none'"):
        resize(x, 16, "none")
    with pytest.raises(UnknownName):
        resize(x, 16, "nearest")


def test_shipped_digit_cnn_is_small_and_accurate(digits):
    assert DIGIT_WEIGHTS.stat().st_size < 2 * 1024 * 1024
    _, record = load_digit_cnn()
    assert record["dataset"] == "mnist5k" and record["test_accuracy"] >= 0.95
    images, labels = digits
    extractor = DigitCNNExtractor()
    feats, logits = extractor.extract(images)
    assert feats.shape == (300, 128) and logits.shape == (300, 10) and feats.dtype == np.float32
    assert (logits.argmax(1) == labels).mean() >= 0.93


def test_digit_cnn_records_resizing_and_takes_rgb(digits):
    images = digits[0][:20]
    extractor = DigitCNNExtractor()
    big = np.repeat(np.repeat(images, 2, axis=2), 2, axis=3)
    protocol = extractor.describe(big.shape)
    assert protocol["resized"] and protocol["resize"] == "bilinear-antialias" and protocol["size"] == 28
    assert not extractor.describe(images.shape)["resized"]
    rgb = np.repeat(images, 3, axis=1)
    np.testing.assert_allclose(extractor.features(rgb), extractor.features(images), rtol=1e-5, atol=1e-5)


def test_features_do_not_depend_on_batch_size(digits):
    extractor = DigitCNNExtractor()
    np.testing.assert_allclose(extractor.features(digits[0][:50], batch_size=7),
                               extractor.features(digits[0][:50], batch_size=256), rtol=1e-5, atol=1e-6)


def test_random_cnn_is_seeded():
    x = np.random.default_rng(0).integers(0, 256, (4, 3, 32, 32), dtype=np.uint8)
    a, b, c = RandomCNNExtractor(0), RandomCNNExtractor(0), RandomCNNExtractor(1)
    assert a.features(x).shape == (4, 256)
    assert np.array_equal(a.features(x), b.features(x)) and not np.allclose(a.features(x), c.features(x))
    assert a.cache_key() == b.cache_key() != c.cache_key()
    assert a.logits is not None and a.num_classes is None
    with pytest.raises(BadInput, match="no class logits"):
        a.logits(x)


def test_pixels_flatten_unit_values():
    x = np.arange(2 * 3 * 4 * 4, dtype=np.uint8).reshape(2, 3, 4, 4)
    feats = PixelExtractor().features(x)
    assert feats.shape == (2, 48)
    np.testing.assert_allclose(feats, x.reshape(2, -1) / 255, rtol=1e-6)
    assert PixelExtractor(size=2).features(x).shape == (2, 12)


def test_user_module_with_and_without_head():
    torch.manual_seed(0)
    body, head = nn.Sequential(nn.Flatten(), nn.Linear(16, 5)), nn.Linear(5, 3)
    x = np.random.default_rng(1).integers(0, 256, (6, 1, 4, 4), dtype=np.uint8)
    ext = ModuleExtractor(body, "mine", head=head, num_classes=3, input_range="[-1,1]")
    feats, logits = ext.extract(x)
    with torch.no_grad():
        expected = body(torch.from_numpy(x).float() / 255 * 2 - 1)
    np.testing.assert_allclose(feats, expected.numpy(), rtol=1e-6)
    assert logits.shape == (6, 3) and ext.describe()["extractor"] == "mine"
    assert ext.cache_key() != ModuleExtractor(nn.Sequential(nn.Flatten(), nn.Linear(16, 5)), "mine").cache_key()
    with pytest.raises(UnknownName):
        ModuleExtractor(body, input_range="0-255")


def test_inception_extractor_pipeline_with_random_weights():
    torch.manual_seed(0)
    ext = InceptionExtractor(model=FIDInceptionV3().eval())
    x = np.random.default_rng(0).integers(0, 256, (2, 1, 8, 8), dtype=np.uint8)
    feats, logits = ext.extract(x)
    assert feats.shape == (2, 2048) and logits.shape == (2, 1008)
    protocol = ext.describe(x.shape)
    assert protocol["resize"] == "bilinear" and protocol["size"] == 299 and protocol["input_range"] == "[-1,1]"
    assert protocol["resized"] and protocol["channels"] == 3 and "weights_sha256" in protocol


def test_get_extractor_names_and_errors(monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    assert get_extractor("pixels", size=8).size == 8
    assert get_extractor("random-cnn", seed=3).seed == 3
    assert get_extractor("digit-cnn", resize_method="pil-bicubic").resize_method == "pil-bicubic"
    with pytest.raises(UnknownName, match="extractor"):
        get_extractor("vgg")
    with pytest.raises(BadInput, match=WEIGHTS_ENV):
        get_extractor("inception")
    with pytest.raises(BadInput, match="inception extractor only"):
        get_extractor("digit-cnn", weights="w.pth")
    with pytest.raises(BadInput, match="fixed input size"):
        get_extractor("digit-cnn", size=32)


WORKER = '''
import argparse, sys
import numpy as np, torch
from thoughtlab.metrics.cli import add_eval_commands
from thoughtlab.metrics.extractors import DigitCNNExtractor, RandomCNNExtractor
from thoughtlab.train import distributed

torch.set_num_threads(1)
out = sys.argv[1]
distributed.init()
images = np.load(out + "/images.npy")
feats, _ = RandomCNNExtractor(0).extract(images, batch_size=16)
few, _ = RandomCNNExtractor(0).extract(images[:10], batch_size=16)  # rank 1 gets no batch
_, logits = DigitCNNExtractor().extract(images, batch_size=16)
parser = argparse.ArgumentParser()
add_eval_commands(parser.add_subparsers())
for name in ("stats1.npz", "stats2.npz"):  # the second run reads the cache on every rank
    args = parser.parse_args(["eval", "stats", out + "/images.npy", "-o", out + "/" + name, "--batch-size", "16",
                              "--extractor", "digit-cnn", "--cache-dir", out + "/cache"])
    args.func(args)
if distributed.is_main():
    np.savez(out + "/gathered.npz", feats=feats, few=few, logits=logits, world=distributed.world_size())
distributed.cleanup()
'''


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch built without torch.distributed")
def test_torchrun_extraction_equals_one_process(tmp_path, digits, torchrun):
    import os
    import subprocess

    images = np.concatenate([digits[0][:40], np.repeat(digits[0][40:70], 2, axis=2)[:, :, :28]])
    np.save(tmp_path / "images.npy", images)
    (tmp_path / "worker.py").write_text(WORKER)
    command = [*torchrun, "--standalone", "--nproc_per_node=2",
               str(tmp_path / "worker.py"), str(tmp_path)]
    done = subprocess.run(command, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr[:3000] + " [...] " + done.stderr[-1500:]
    with np.load(tmp_path / "gathered.npz") as got:
        assert int(got["world"]) == 2
        assert np.array_equal(got["feats"], RandomCNNExtractor(0).extract(images, batch_size=16)[0])
        assert np.array_equal(got["few"], RandomCNNExtractor(0).features(images[:10], batch_size=16))
        assert np.array_equal(got["logits"], DigitCNNExtractor().extract(images, batch_size=16)[1])
    single = DigitCNNExtractor().features(images, batch_size=16).astype(np.float64)
    for name in ("stats1.npz", "stats2.npz"):
        with np.load(tmp_path / name) as stats:
            np.testing.assert_allclose(stats["mu"], single.mean(0), rtol=1e-12, atol=1e-12)
    assert len(list((tmp_path / "cache").iterdir())) == 1
