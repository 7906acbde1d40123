"""Translate and evaluate with trained generators.

Weights are read with ``torch.load(weights_only=True)`` (no code runs): either ``weights.pt`` written
by ``thoughtlab cyclegan train`` (both generators and their options) or a single generator state dict
in the reference repository's layout (``latest_net_G_A.pth``; ngf, blocks and channels are read from
the tensor shapes).  Translation quality (Zhu et al. 2017, §5.1 uses FCN scores and AMT; here the
content is known): label preservation of G(a) by the embedded digit classifier, FID and KID in its
128-d features (:mod:`thoughtlab.metrics`), and both cycle errors ‖F(G(a)) − a‖₁, ‖G(F(b)) − b‖₁.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from thoughtlab.cyclegan.data import Domain, load_domain, to_model_range, to_uint8
from thoughtlab.cyclegan.digits import classifier_view
from thoughtlab.cyclegan.networks import ResnetGenerator
from thoughtlab.cyclegan.training import WEIGHTS_FORMAT
from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.fileio import atomic_write_bytes
from thoughtlab.train import load_checkpoint

DIRECTIONS = ("AtoB", "BtoA")
_BLOCK_KEY = re.compile(r"model\.(\d+)\.conv_block\.1\.weight")


def _reference_generator(state: dict[str, Any], path: Path) -> ResnetGenerator:
    """Rebuild a ResnetGenerator from a bare state dict (reference layout) by its tensor shapes."""
    first, blocks = state.get("model.1.weight"), [k for k in state if _BLOCK_KEY.fullmatch(k)]
    convs = [k for k in state if k.startswith("model.") and k.endswith(".weight")]
    if first is None or not torch.is_tensor(first) or first.ndim != 4 or not blocks:
        raise BadInput(f"{path} is not CycleGAN generator weights; pass weights.pt from 'thoughtlab cyclegan train' "
                       "or a reference latest_net_G_*.pth (resnet generator)")
    last = state[max(convs, key=lambda k: int(k.split(".")[1]))]
    net = ResnetGenerator(first.shape[1], last.shape[0], first.shape[0], len(blocks))
    _load(net, state, path)
    return net


def _load(net: nn.Module, state: dict[str, Any], path: Path) -> None:
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0][:120]
        raise BadInput(f"{path}: the weights do not fit a ResnetGenerator ({reason}); pass CycleGAN generator weights") from None


def load_generator(path: str | Path, direction: str = "AtoB") -> nn.Module:
    """The generator of ``direction`` (AtoB = G_A, BtoA = G_B) in eval mode."""
    if direction not in DIRECTIONS:
        raise UnknownName("direction", direction, DIRECTIONS)
    path = Path(path)
    state = load_checkpoint(path)
    if state.get("format") == WEIGHTS_FORMAT:
        opt = state["options"]
        nc_in, nc_out = (state["input_nc"], state["output_nc"])[:: 1 if direction == "AtoB" else -1]
        net = ResnetGenerator(nc_in, nc_out, opt["ngf"], opt["n_blocks"])
        _load(net, state["G_A" if direction == "AtoB" else "G_B"], path)
        net.crop_size = opt["crop_size"]
    elif "format" in state:
        raise BadInput(f"{path} holds {state['format']!r}, not CycleGAN generators; pass weights.pt from "
                       "'thoughtlab cyclegan train'")
    else:
        net = _reference_generator(state, path)
        net.crop_size = None
    return net.eval()


@torch.no_grad()
def apply(generator: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """generator over float images in [-1, 1], batch by batch; float output in [-1, 1]."""
    return torch.cat([generator(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


def _png(image: torch.Tensor) -> bytes:
    from PIL import Image

    array = image.numpy()
    pil = Image.fromarray(array[0]) if array.shape[0] == 1 else Image.fromarray(array.transpose(1, 2, 0))
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def translate_folder(weights: str | Path, direction: str, in_dir: str | Path, out_dir: str | Path,
                     load_size: int | None = None) -> list[Path]:
    """Translate every image of ``in_dir`` (resized to load_size², default the training crop) into PNGs.

    All inputs are read and translated before the first file is written, so bad input writes nothing.
    """
    net = load_generator(weights, direction)
    size = load_size or net.crop_size
    if size is None:
        raise BadInput(f"{weights} does not record its image size; pass --load_size (a multiple of 4)")
    if size % 4:
        raise BadInput(f"--load_size {size} must be a multiple of 4; e.g. {size // 4 * 4 or 4}")
    domain = load_domain(in_dir, size, net.input_nc)
    fakes = to_uint8(apply(net, to_model_range(domain.images)))
    out_dir = Path(out_dir)
    written = []
    for name, image in zip(domain.names, fakes):
        atomic_write_bytes(out_dir / (Path(name).stem + ".png"), _png(image))
        written.append(out_dir / (Path(name).stem + ".png"))
    return written


def _unit(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(-1, 1) + 1) / 2


def digit_features(images: torch.Tensor, digits_view: bool) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, 128) and logits (N, 10) of the embedded digit CNN for images in [-1, 1]."""
    from thoughtlab.metrics.extractors import DigitCNNExtractor

    unit = _unit(images)
    return DigitCNNExtractor().extract(classifier_view(unit) if digits_view else unit)


def evaluate_translation(g_ab: Callable, g_ba: Callable, test_a: Domain, test_b: Domain, *,
                         digits_view: bool = True, seed: int = 0, fid: bool = True) -> dict[str, Any]:
    """Both directions on the test sets: FID (unless ``fid`` is False) and KID in digit-CNN features,
    cycle L1, label accuracy (when labelled).

    Per-item lists (``items``) keep one value per test image for paired comparisons.
    """
    from thoughtlab.metrics import compute_fid, compute_kid

    a, b = to_model_range(test_a.images), to_model_range(test_b.images)
    fake_b, fake_a = apply(g_ab, a), apply(g_ba, b)
    rec_a, rec_b = apply(g_ba, fake_b), apply(g_ab, fake_a)
    feats = {name: digit_features(x, digits_view) for name, x in
             (("a", a), ("b", b), ("fake_a", fake_a), ("fake_b", fake_b))}
    metrics: dict[str, float] = {}
    items: dict[str, list[float]] = {
        "cycle_A": (rec_a - a).abs().mean(dim=(1, 2, 3)).tolist(),
        "cycle_B": (rec_b - b).abs().mean(dim=(1, 2, 3)).tolist(),
    }
    for side, fake, real in (("B", "fake_b", "b"), ("A", "fake_a", "a")):
        if fid:
            metrics[f"fid_{side}"] = compute_fid(feats[real][0], feats[fake][0])["value"]
        metrics[f"kid_{side}"] = compute_kid(feats[real][0], feats[fake][0], subsets=50, seed=seed)["value"]
    for side, fake, source in (("AtoB", "fake_b", test_a), ("BtoA", "fake_a", test_b)):
        if source.labels is not None:
            items[f"label_{side}"] = (feats[fake][1].argmax(1) == source.labels).astype(float).tolist()
            real = feats["a" if side == "AtoB" else "b"][1].argmax(1) == source.labels
            metrics[f"label_real_{'A' if side == 'AtoB' else 'B'}"] = float(real.mean())
    metrics.update({key: float(np.mean(values)) for key, values in items.items()})
    return {"metrics": metrics, "items": items, "fake_b": fake_b, "fake_a": fake_a}
