import gzip

import numpy as np
import pytest
from PIL import Image

from thoughtlab.data import load_cifar_batch, load_image_folder, load_mnist_idx
from thoughtlab.errors import BadInput


def idx_bytes(array: np.ndarray) -> bytes:
    magic = (0x08 << 8) | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.fixture
def idx_pair(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 9], dtype=np.uint8)
    (tmp_path / "img.idx").write_bytes(idx_bytes(images))
    (tmp_path / "lab.idx.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    return tmp_path / "img.idx", tmp_path / "lab.idx.gz", images, labels


def test_mnist_idx_roundtrip_with_gzip(idx_pair):
    img_path, lab_path, images, labels = idx_pair
    x, y = load_mnist_idx(img_path, lab_path)
    assert x.shape == (5, 1, 4, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0] * 255, images)
    np.testing.assert_array_equal(y, labels)


def test_mnist_idx_rejects_truncated_wrong_magic_and_mismatch(idx_pair, tmp_path):
    img_path, lab_path, images, labels = idx_pair
    cut = tmp_path / "cut.idx"
    cut.write_bytes(img_path.read_bytes()[:-1])
    with pytest.raises(BadInput, match="cut.idx.*truncated"):
        load_mnist_idx(cut, lab_path)
    with pytest.raises(BadInput, match="img.idx.*magic"):
        load_mnist_idx(img_path, img_path)
    (tmp_path / "few.idx").write_bytes(idx_bytes(labels[:3]))
    with pytest.raises(BadInput, match="few.idx"):
        load_mnist_idx(img_path, tmp_path / "few.idx")
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(BadInput, match="bad.gz"):
        load_mnist_idx(img_path, tmp_path / "bad.gz")
    with pytest.raises(BadInput, match="missing.idx"):
        load_mnist_idx(tmp_path / "missing.idx", lab_path)


def test_cifar_binary_batch(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    records = np.concatenate([labels[:, None], pixels.reshape(3, -1)], axis=1)
    path = tmp_path / "data_batch_1.bin"
    path.write_bytes(records.tobytes())
    x, y = load_cifar_batch(path)
    assert x.shape == (3, 3, 32, 32) and y.tolist() == [7, 0, 9]
    np.testing.assert_allclose(x * 255, pixels)
    path.write_bytes(records.tobytes()[:-10])
    with pytest.raises(BadInput, match="data_batch_1.bin.*truncated"):
        load_cifar_batch(path)
    records[1, 0] = 42
    path.write_bytes(records.tobytes())
    with pytest.raises(BadInput, match="label 42"):
        load_cifar_batch(path)


def test_image_folder_order_labels_and_errors(tmp_path):
    for cls, value in [("cat", 10), ("ant", 200)]:
        (tmp_path / cls).mkdir()
        for i in (1, 0):
            Image.fromarray(np.full((5, 6, 3), value + i, dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    x, y, classes = load_image_folder(tmp_path)
    assert classes == ["ant", "cat"] and y.tolist() == [0, 0, 1, 1]
    assert x.shape == (4, 3, 5, 6)
    np.testing.assert_allclose(x[:, 0, 0, 0] * 255, [200, 201, 10, 11], atol=1e-4)
    gray, _, _ = load_image_folder(tmp_path, mode="L")
    assert gray.shape == (4, 1, 5, 6)
    (tmp_path / "cat" / "2.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(BadInput, match="2.png"):
        load_image_folder(tmp_path)
    Image.fromarray(np.zeros((7, 7, 3), dtype=np.uint8)).save(tmp_path / "cat" / "2.png")
    with pytest.raises(BadInput, match="2.png.*size"):
        load_image_folder(tmp_path)
    with pytest.raises(BadInput, match="no .png"):
        load_image_folder(tmp_path / "cat")
