"""Feature extractors: images (N, C, H, W) -> features (N, d), and class logits where the network has them.

One small interface, :class:`Extractor`, with five kinds (:func:`get_extractor`):

* ``inception`` — the FID Inception-v3 (:mod:`thoughtlab.nets.inception`), 2048-d pool3 features and
  1008 bias-free logits for IS; local weights only (``--weights`` or THOUGHTLAB_INCEPTION_WEIGHTS).
  Default pipeline = pytorch-fid's: bilinear resize to 299 (``align_corners=False``, no antialias), then 2x−1.
* ``digit-cnn`` — the embedded default for digit-like data: a small CNN trained by
  :mod:`thoughtlab.metrics.train_digit_cnn` on ``mnist5k``, shipped in ``weights/digit_cnn.pt``;
  128-d features (global-average-pooled last convolution) and 10 logits.
* ``random-cnn`` — a seeded random-weight CNN embedding (256-d), a weights-free baseline.
* ``pixels`` — raw pixels in [0, 1], flattened.
* any ``nn.Module`` via :class:`ModuleExtractor`.

Resizing changes FID (Parmar et al. 2022, "On aliased resizing and surprising subtleties in GAN
evaluation", Sec. 3), so the resize method, target size, channel conversion and quantisation are
explicit and returned by :meth:`Extractor.describe` with every result.  uint8 inputs are scaled
by 1/255; float inputs must already lie in [0, 1] and are used as given (no re-quantisation);
nothing is quantised after resizing (as clean-fid's "clean" mode).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image
from torch import nn

from thoughtlab.errors import BadInput, UnknownName
from thoughtlab.train import distributed
from thoughtlab.validate import integer, torch_weights

RESIZE_METHODS = ("none", "bilinear", "bilinear-antialias", "pil-bicubic")
EXTRACTORS = ("inception", "digit-cnn", "random-cnn", "pixels")
DIGIT_WEIGHTS = Path(__file__).parent / "weights" / "digit_cnn.pt"
DIGIT_FORMAT = "thoughtlab-digit-cnn-v1"
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's RGB -> L


def to_unit_float(images: Any) -> torch.Tensor:
    """(N, C, H, W) uint8 (scaled by 1/255) or float in [0, 1] (as given) -> float32 tensor in [0, 1]."""
    x = torch.as_tensor(images) if not torch.is_tensor(images) else images.detach().cpu()
    if x.ndim != 4:
        raise BadInput(f"images must have shape (N, C, H, W), got {tuple(x.shape)}; add the missing axes")
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if not x.is_floating_point():
        raise BadInput(f"images have dtype {x.dtype}; pass uint8 (0-255) or float in [0, 1]")
    x = x.float()
    if not torch.isfinite(x).all():
        raise BadInput("images contain NaN or Inf; fix the generator output")
    low, high = float(x.min()), float(x.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise BadInput(f"float images must lie in [0, 1], got values in [{low:.3g}, {high:.3g}]; "
                       "divide 0-255 data by 255 (or map [-1, 1] by (x+1)/2), or pass uint8")
    return x.clamp(0, 1)


def match_channels(x: torch.Tensor, channels: int | None) -> torch.Tensor:
    """Gray -> RGB by repetition, RGB -> gray by BT.601 luma; other channel counts are an error."""
    have = x.shape[1]
    if channels is None or have == channels:
        return x
    if have == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if have == 3 and channels == 1:
        return (x * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    raise BadInput(f"images have {have} channels but the extractor takes {channels}; pass 1 (gray) or 3 (RGB)")


def _pil_bicubic(x: torch.Tensor, size: int) -> torch.Tensor:
    """clean-fid's 'clean' resize: each channel as a float32 PIL image, bicubic, no quantisation."""
    out = np.empty((x.shape[0], x.shape[1], size, size), dtype=np.float32)
    arr = x.numpy()
    for i in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            img = Image.fromarray(np.ascontiguousarray(arr[i, c]))  # float32 -> mode "F"
            out[i, c] = np.asarray(img.resize((size, size), resample=Image.Resampling.BICUBIC), dtype=np.float32)
    return torch.from_numpy(out)


def resize(x: torch.Tensor, size: int | None, method: str) -> torch.Tensor:
    """Square resize of float images by ``method`` (one of RESIZE_METHODS); a no-op at the target size."""
    if method not in RESIZE_METHODS:
        raise UnknownName("resize method", method, RESIZE_METHODS)
    if size is None or x.shape[-2:] == (size, size):
        return x
    if method == "none":
        raise BadInput(f"images are {x.shape[-2]}x{x.shape[-1]} but the extractor takes {size}x{size} and resize is "
                       f"'none'; pass --resize one of {', '.join(RESIZE_METHODS[1:])}")
    if method == "pil-bicubic":
        return _pil_bicubic(x, size)
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=method == "bilinear-antialias")


class Extractor:
    """Images -> features (and logits).  Subclasses set the attributes and implement ``_forward``.

    Attributes:
        name: short identifier recorded with results.
        size: square input side the network takes (None: any size).
        resize_method: one of RESIZE_METHODS, used when the image side differs from ``size``.
        channels: channel count the network takes (None: any).
        input_range: "[0,1]" or "[-1,1]" — the affine map applied after resizing.
        num_classes: logit count, or None when the extractor has no classifier head.
    """

    name = "extractor"
    size: int | None = None
    resize_method = "none"
    channels: int | None = None
    input_range = "[0,1]"
    num_classes: int | None = None

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        """What, besides the protocol, decides the features (weights digest, seed); used by the cache key."""
        return {}

    def describe(self, input_shape: tuple[int, ...] | None = None) -> dict[str, Any]:
        """The protocol: extractor, resize method and size, channel conversion, value mapping."""
        protocol: dict[str, Any] = {"extractor": self.name, "resize": self.resize_method, "size": self.size,
                                    "input_range": self.input_range, "channels": self.channels,
                                    "quantisation": "uint8 inputs / 255; float inputs used as given; "
                                                    "none after resize", **self.identity()}
        if input_shape is not None:
            c, h, w = input_shape[-3:]
            protocol["input_shape"] = [int(c), int(h), int(w)]
            protocol["resized"] = self.size is not None and (h, w) != (self.size, self.size)
        return protocol

    def cache_key(self) -> str:
        """A digest of the protocol and identity: equal keys give equal features for equal images."""
        return hashlib.sha256(json.dumps(self.describe(), sort_keys=True).encode()).hexdigest()[:32]

    def prepare(self, images: Any) -> torch.Tensor:
        """The network input: unit float, channels matched, resized, mapped to ``input_range``."""
        x = resize(match_channels(to_unit_float(images), self.channels), self.size, self.resize_method)
        return x * 2 - 1 if self.input_range == "[-1,1]" else x

    @torch.no_grad()
    def extract(self, images: Any, batch_size: int = 256,
                device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
        """Features (N, d) float32 and logits (N, classes) or None, computed batch by batch in eval mode.

        Under ``torchrun`` each rank computes a contiguous share of the batches and the shares are
        all-gathered in rank order; the batches are the ones a single process would use, so the
        result equals the single-process one.
        """
        if len(images) == 0:
            raise BadInput("no images to extract features from; pass at least one image")
        self.to(device)
        feats, logits = [], []
        for start in batch_starts_of_this_rank(len(images), batch_size):
            f, l = self._forward(self.prepare(images[start:start + batch_size]).to(device))
            feats.append(f.float().cpu().reshape(len(f), -1))
            if l is not None:
                logits.append(l.float().cpu())
        features = gather_rows(torch.cat(feats) if feats else torch.zeros(0, 0))
        if not self.has_head():
            return features, None
        return features, gather_rows(torch.cat(logits) if logits else torch.zeros(0, 0))

    def has_head(self) -> bool:
        """Whether ``_forward`` returns logits."""
        return self.num_classes is not None

    def to(self, device: str | torch.device) -> Extractor:
        """Move the network (if any) to ``device``."""
        return self

    def features(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """Features (N, d) float32 of images (N, C, H, W) uint8 or float in [0, 1]."""
        return self.extract(images, batch_size)[0]

    def logits(self, images: Any, batch_size: int = 256) -> np.ndarray:
        """Class logits (N, classes); BadInput when the extractor has no classifier head."""
        if not self.has_head():
            raise BadInput(f"extractor {self.name!r} has no class logits (needed by the inception score); "
                           "use --extractor inception or digit-cnn")
        return self.extract(images, batch_size)[1]


def batch_starts_of_this_rank(n: int, batch_size: int) -> list[int]:
    """First rows of this rank's batches: a contiguous, near-equal share of ``range(0, n, batch_size)``."""
    if batch_size < 1:
        raise BadInput(f"batch size must be at least 1, got {batch_size}")
    starts = list(range(0, n, batch_size))
    share = np.array_split(np.arange(len(starts)), distributed.world_size())[distributed.rank()]
    return [starts[i] for i in share]


def gather_rows(local: torch.Tensor) -> np.ndarray:
    """This rank's rows (n_r, d) concatenated with all other ranks' in rank order (as is outside torchrun)."""
    if not distributed.is_distributed():
        return local.numpy()
    dev = distributed.device()
    shape = torch.tensor(local.shape if local.numel() else (local.shape[0], 0), device=dev)
    shapes = [torch.zeros_like(shape) for _ in range(distributed.world_size())]
    dist.all_gather(shapes, shape)
    rows, dim = max(int(s[0]) for s in shapes), max(int(s[1]) for s in shapes)
    padded = torch.zeros(rows, dim, dtype=torch.float32, device=dev)
    if local.numel():
        padded[:local.shape[0]] = local.to(dev)
    parts = [torch.zeros_like(padded) for _ in shapes]
    dist.all_gather(parts, padded)
    return torch.cat([part[:int(s[0])] for part, s in zip(parts, shapes)]).cpu().numpy()


def state_digest(module: nn.Module) -> str:
    """sha256 over a module's state dict (names, shapes, bytes): identifies its weights."""
    digest = hashlib.sha256()
    for key, value in module.state_dict().items():
        digest.update(key.encode())
        digest.update(str(tuple(value.shape)).encode())
        digest.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:32]


class ModuleExtractor(Extractor):
    """Any ``nn.Module`` (eval mode): ``module(x)`` gives features, flattened; ``head(features)`` optional logits.

    The weights are fingerprinted once, here (for the cache key): build a new extractor after changing them.
    """

    def __init__(self, module: nn.Module, name: str = "module", *, size: int | None = None, resize_method: str = "none",
                 channels: int | None = None, input_range: str = "[0,1]",
                 head: Callable[[torch.Tensor], torch.Tensor] | None = None, num_classes: int | None = None):
        if input_range not in ("[0,1]", "[-1,1]"):
            raise UnknownName("input range", input_range, ("[0,1]", "[-1,1]"))
        if resize_method not in RESIZE_METHODS:
            raise UnknownName("resize method", resize_method, RESIZE_METHODS)
        self.module, self.head = module.eval(), head
        self.weights_sha256 = state_digest(module)
        self.name, self.size, self.resize_method = name, size, resize_method
        self.channels, self.input_range = channels, input_range
        self.num_classes = num_classes if head is not None else None

    def identity(self) -> dict[str, Any]:
        return {"weights_sha256": self.weights_sha256}

    def has_head(self) -> bool:
        return self.head is not None

    def to(self, device: str | torch.device) -> ModuleExtractor:
        self.module.to(device)
        if isinstance(self.head, nn.Module):
            self.head.to(device)
        return self

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        feats = self.module(x).reshape(len(x), -1)
        return feats, (self.head(feats) if self.head is not None else None)


class InceptionExtractor(ModuleExtractor):
    """FID Inception-v3 from a local weights file: 2048-d pool3 features, 1008 bias-free logits."""

    def __init__(self, weights: str | Path | None = None, *, resize_method: str = "bilinear",
                 model: nn.Module | None = None):
        from thoughtlab.nets.inception import load_fid_inception

        net = model if model is not None else load_fid_inception(weights)
        super().__init__(net, "inception", size=299, resize_method=resize_method, channels=3, input_range="[-1,1]",
                         head=net.logits, num_classes=1008)


class DigitCNN(nn.Module):
    """Three 3×3 conv-BN-ReLU stages (32, 64, 128 channels; 2×2 max pools between), global average pool, linear 10.

    ``forward`` returns the 128-d pooled features; ``classify`` the 10 logits.
    """

    feature_dim = 128

    def __init__(self):
        super().__init__()
        widths = (1, 32, 64, self.feature_dim)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1, bias=False) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in widths[1:])
        self.fc = nn.Linear(self.feature_dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = F.relu(norm(conv(x)))
            if i < 2:
                x = F.max_pool2d(x, 2)
        return x.mean(dim=(2, 3))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features)


class DigitClassifier(DigitCNN):
    """The same network returning logits (for training)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(super().forward(x))


def load_digit_cnn(path: str | Path = DIGIT_WEIGHTS) -> tuple[DigitCNN, dict[str, Any]]:
    """The shipped digit CNN (eval mode) and its training record (seed, steps, test accuracy)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"digit CNN weights {path} are missing; run `python -m thoughtlab.metrics.train_digit_cnn`")
    blob = torch_weights(path, "digit CNN weights")
    if not isinstance(blob, dict) or blob.get("format") != DIGIT_FORMAT:
        raise BadInput(f"{path}: not a thoughtlab digit CNN file; retrain with thoughtlab.metrics.train_digit_cnn")
    model = DigitCNN()
    model.load_state_dict(blob["state_dict"])
    return model.eval(), {k: v for k, v in blob.items() if k != "state_dict"}


class DigitCNNExtractor(ModuleExtractor):
    """The embedded digit CNN: gray 28×28 in [0, 1] (antialiased bilinear resize by default), 128-d, 10 logits."""

    def __init__(self, *, resize_method: str = "bilinear-antialias", path: str | Path = DIGIT_WEIGHTS):
        net, self.record = load_digit_cnn(path)
        super().__init__(net, "digit-cnn", size=28, resize_method=resize_method, channels=1, head=net.classify,
                         num_classes=10)


class RandomCNN(nn.Module):
    """Four stride-2 3×3 conv-ReLU layers (32, 64, 128, 256), global average pool: a random-feature embedding."""

    def __init__(self, channels: int, seed: int):
        super().__init__()
        widths = (channels, 32, 64, 128, 256)
        self.layers = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in pairwise(widths))
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for conv in self.layers:
                fan_in = conv.in_channels * 9
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                conv.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.layers:
            x = F.relu(conv(x))
        return x.mean(dim=(2, 3))


class RandomCNNExtractor(ModuleExtractor):
    """Seeded random-weight CNN (He-normal init), RGB at the native size unless ``size`` is given."""

    def __init__(self, seed: int = 0, *, size: int | None = None, resize_method: str = "bilinear-antialias"):
        super().__init__(RandomCNN(3, seed), "random-cnn", size=size, resize_method=resize_method, channels=3)
        self.seed = seed

    def identity(self) -> dict[str, Any]:
        return {"seed": self.seed, "weights_sha256": self.weights_sha256}


class PixelExtractor(Extractor):
    """Raw pixels in [0, 1], flattened (optionally resized first)."""

    name = "pixels"

    def __init__(self, *, size: int | None = None, resize_method: str = "bilinear-antialias"):
        self.size, self.resize_method = size, resize_method

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return x.reshape(len(x), -1), None


MAX_SIZE = 2048  # input side of random-cnn/pixels: larger squares exhaust memory before they tell anything


def get_extractor(name: str, *, weights: str | Path | None = None, resize_method: str | None = None,
                  size: int | None = None, seed: int = 0) -> Extractor:
    """An extractor by name (EXTRACTORS); ``resize_method``/``size`` override its defaults where it allows."""
    if resize_method is not None and resize_method not in RESIZE_METHODS:
        raise UnknownName("resize method", resize_method, RESIZE_METHODS)
    if name not in EXTRACTORS:
        raise UnknownName("extractor", name, EXTRACTORS)
    if size is not None and name in ("inception", "digit-cnn"):
        raise BadInput(f"extractor {name} takes a fixed input size; drop --size")
    if size is not None:
        size = integer(size, "--size (the input side in pixels)", low=1, high=MAX_SIZE)
    if weights is not None and name != "inception":
        raise BadInput(f"--weights applies to the inception extractor only, not {name}")
    kwargs = {} if resize_method is None else {"resize_method": resize_method}
    if name == "inception":
        return InceptionExtractor(weights, **kwargs)
    if name == "digit-cnn":
        return DigitCNNExtractor(**kwargs)
    if name == "random-cnn":
        return RandomCNNExtractor(seed, size=size, **kwargs)
    return PixelExtractor(size=size, **kwargs)
