"""Evaluation inputs (folders, arrays, generators, statistics) and the feature cache."""

import sys

import numpy as np
import pytest
import torch
from PIL import Image

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.metrics.extractors import PixelExtractor, RandomCNNExtractor
from thoughtlab.metrics.fid import FidStats
from thoughtlab.metrics.inputs import (
    FeatureCache,
    Features,
    Images,
    extract_features,
    images_from_array,
    images_from_generator,
    load_folder,
    load_source,
)


def save_image(path, shape=(6, 5), mode="L", value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    arr = np.full(shape + ((channels,) if channels > 1 else ()), value, np.uint8)
    Image.fromarray(arr).save(path)


def test_folder_is_read_recursively_in_sorted_order(tmp_path):
    save_image(tmp_path / "b" / "2.png", value=2)
    save_image(tmp_path / "a" / "deep" / "1.png", value=1)
    save_image(tmp_path / "c.bmp", value=3)
    (tmp_path / "notes.txt").write_text("not an image")
    images = load_folder(tmp_path)
    assert images.pixels.shape == (3, 1, 6, 5) and images.pixels.dtype == np.uint8
    assert images.pixels[:, 0, 0, 0].tolist() == [1, 2, 3]
    assert images.record["n"] == 3 and images.record["mixed"] == "error"


def test_corrupt_and_empty_folders_are_named(tmp_path):
    with pytest.raises(BadInput, match="no image files"):
        load_folder(tmp_path)
    save_image(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(BadInput, match="broken.png.*cannot be read"):
        load_folder(tmp_path)
    with pytest.raises(BadInput, match="not a folder"):
        load_folder(tmp_path / "ok.png")


def test_mixed_sizes_error_by_default_and_resize_on_request(tmp_path):
    save_image(tmp_path / "1.png", (6, 5))
    save_image(tmp_path / "2.png", (6, 5))
    save_image(tmp_path / "3.png", (12, 10), mode="RGB")
    with pytest.raises(BadInput, match="--mixed resize"):
        load_folder(tmp_path)
    images = load_folder(tmp_path, mixed="resize")
    assert images.pixels.shape == (3, 3, 6, 5)
    assert images.record["resized_files"] == 1 and images.record["channel_converted_files"] == 2
    assert images.record["mixed_target"] == [3, 6, 5]
    with pytest.raises(UnknownName):
        load_folder(tmp_path, mixed="crop")


def test_alpha_images_become_rgb(tmp_path):
    save_image(tmp_path / "a.png", mode="RGBA")
    assert load_folder(tmp_path).pixels.shape == (1, 3, 6, 5)


def test_array_layouts_and_dtypes():
    nhwc = np.zeros((2, 4, 5, 3), np.uint8)
    assert images_from_array(nhwc).pixels.shape == (2, 3, 4, 5)
    assert images_from_array(np.zeros((2, 4, 5), np.uint8)).pixels.shape == (2, 1, 4, 5)
    floats = images_from_array(torch.full((1, 1, 2, 2), 0.5))
    assert floats.pixels.dtype == np.uint8 and floats.pixels.max() == 128
    assert "round" in floats.record["conversion"]
    assert images_from_array(np.full((1, 1, 2, 2), 7, np.int64)).pixels.max() == 7
    with pytest.raises(BadInput, match="uint8 is expected"):
        images_from_array(np.zeros((1, 1, 2, 2)), float_policy="error")
    with pytest.raises(BadInput, match=r"\[0, 1\]"):
        images_from_array(np.full((1, 1, 2, 2), 255.0))
    with pytest.raises(BadInput, match="0-255"):
        images_from_array(np.full((1, 1, 2, 2), 300))
    with pytest.raises(BadInput, match="not images"):
        images_from_array(np.zeros((2, 5, 4, 4)))
    with pytest.raises(BadInput, match="empty"):
        images_from_array(np.zeros((0, 1, 2, 2)))


def test_files_arrays_features_and_statistics(tmp_path):
    np.save(tmp_path / "imgs.npy", np.zeros((3, 8, 8, 3), np.uint8))
    assert isinstance(load_source(tmp_path / "imgs.npy"), Images)
    np.save(tmp_path / "feats.npy", np.ones((3, 4), np.float32))
    feats = load_source(str(tmp_path / "feats.npy"))
    assert isinstance(feats, Features) and feats.features.shape == (3, 4)
    np.savez(tmp_path / "named.npz", images=np.zeros((2, 1, 4, 4), np.uint8), labels=np.zeros(2))
    assert load_source(tmp_path / "named.npz").pixels.shape == (2, 1, 4, 4)
    np.savez(tmp_path / "stats.npz", mu=np.zeros(3), sigma=np.eye(3))
    assert isinstance(load_source(tmp_path / "stats.npz"), FidStats)
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(BadInput, match="'images'"):
        load_source(tmp_path / "two.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadInput, match="pickled"):
        load_source(tmp_path / "objects.npy")
    with pytest.raises(BadInput, match="no such file"):
        load_source(tmp_path / "missing.npy")
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(BadInput, match="expected an image folder"):
        load_source(tmp_path / "x.csv")


def test_generator_is_sampled_in_batches():
    calls = []

    def sample(n):
        calls.append(n)
        return torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(len(calls)))

    images = images_from_generator(sample, 7, batch_size=3)
    assert images.pixels.shape == (7, 1, 4, 4) and calls == [3, 3, 1]
    assert images.record["source"].startswith("generator")
    with pytest.raises(BadInput, match="exactly n"):
        images_from_generator(lambda n: np.zeros((n + 1, 1, 2, 2), np.uint8), 2)
    with pytest.raises(BadInput, match="returned a NoneType; it must return a numpy array or torch tensor"):
        images_from_generator(lambda n: None, 2)
    with pytest.raises(BadInput, match="returned shape \\(2, 4\\); it must return images"):
        images_from_generator(lambda n: np.zeros((n, 4), np.uint8), 2)
    with pytest.raises(BadInput, match="failed on sample\\(2\\): ZeroDivisionError"):
        images_from_generator(lambda n: 1 / 0, 2)
    with pytest.raises(BadInput, match="float images must lie in \\[0, 1\\]"):
        images_from_generator(lambda n: np.full((n, 4, 4), 3.0), 2)


GENERATOR_FILE = """
import numpy as np
from tl_gen_helper import SIDE  # a sibling module: the file's folder is importable while it loads

def sample(n):
    return np.random.default_rng(n).random((n, SIDE, SIDE))  # floats in [0, 1): rounded to uint8

NOT_CALLABLE = 3
"""


@pytest.fixture
def generator_file(tmp_path):
    (tmp_path / "tl_gen_helper.py").write_text("SIDE = 6\n")
    path = tmp_path / "tl_gen.py"
    path.write_text(GENERATOR_FILE)
    yield path
    for name in ("tl_gen", "tl_gen_helper"):  # imported by name in the tests: leave no trace in sys.modules
        sys.modules.pop(name, None)


def test_generator_specs_load_files_and_modules(generator_file, tmp_path, monkeypatch):
    images = load_source(f"{generator_file}:sample", samples=5, batch_size=2)
    assert images.pixels.shape == (5, 1, 6, 6) and images.pixels.dtype == np.uint8
    assert images.record["source"] == f"generator {generator_file}:sample"
    assert images.record["conversion"] == ["float [0,1] -> uint8 by round(255x)"]
    monkeypatch.chdir(tmp_path)  # package.module:function, importable from the working folder
    by_module = load_source("tl_gen:sample", samples=5, batch_size=2)
    assert np.array_equal(by_module.pixels, images.pixels)


def test_an_existing_path_with_a_colon_is_a_path(tmp_path):
    folder = tmp_path / "gen:sample"
    save_image(folder / "a.png", value=7)
    images = load_source(str(folder))
    assert images.pixels.shape == (1, 1, 6, 5) and images.record["source"] == str(folder)


def test_generator_spec_errors(generator_file, tmp_path):
    spec = f"{generator_file}:sample"
    with pytest.raises(BadInput, match="is a generator; pass --samples N"):
        load_source(spec)
    with pytest.raises(BadInput, match="generator file .*nope.py not found"):
        load_source(f"{tmp_path / 'nope.py'}:sample", samples=2)
    with pytest.raises(BadInput, match="has no attribute 'missing'; define def missing\\(n\\)"):
        load_source(f"{generator_file}:missing", samples=2)
    with pytest.raises(BadInput, match="NOT_CALLABLE is a int, not a callable"):
        load_source(f"{generator_file}:NOT_CALLABLE", samples=2)
    with pytest.raises(BadInput, match="cannot import module 'no_such_module_xyz'"):
        load_source("no_such_module_xyz:sample", samples=2)
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(BadInput, match="importing .*broken.py failed: RuntimeError: boom"):
        load_source(f"{broken}:sample", samples=2)
    with pytest.raises(BadInput, match="at least one sample, got n=0"):
        load_source(spec, samples=0)
    with pytest.raises(BadInput, match="no such file or folder"):
        load_source(str(tmp_path / "dir with space:x"))  # not a module name nor a .py file: just a missing path


def test_feature_cache_hits_misses_and_recovers(tmp_path):
    images = images_from_array(np.random.default_rng(0).integers(0, 256, (5, 3, 16, 16), dtype=np.uint8))
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(images, RandomCNNExtractor(0), cache=cache)
    second = extract_features(images, RandomCNNExtractor(0), cache=cache)
    assert first.protocol["cache"] == "stored" and second.protocol["cache"] == "hit"
    assert np.array_equal(first.features, second.features) and second.logits is None
    assert extract_features(images, RandomCNNExtractor(1), cache=cache).protocol["cache"] == "stored"
    other = images_from_array(images.pixels[:4])
    assert extract_features(other, RandomCNNExtractor(0), cache=cache).protocol["cache"] == "stored"
    files = sorted((tmp_path / "cache").iterdir())
    assert len(files) == 3 and all(f.suffix == ".npz" for f in files)  # no temporary files left behind
    cache.path(images.pixels, RandomCNNExtractor(0)).write_bytes(b"torn")
    again = extract_features(images, RandomCNNExtractor(0), cache=cache)
    assert again.protocol["cache"] == "stored" and np.array_equal(again.features, first.features)


def test_protocol_joins_input_record_and_extractor():
    images = images_from_array(np.zeros((2, 1, 4, 4), np.float32))
    protocol = extract_features(images, PixelExtractor(size=2)).protocol
    assert protocol["extractor"] == "pixels" and protocol["resized"] and protocol["cache"] == "off"
    assert "round" in protocol["conversion"] and protocol["input_shape"] == [1, 4, 4]
