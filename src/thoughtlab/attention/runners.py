"""The four experiments of the attention-noise study, one function per task, for one seed.

Each takes its task's configuration (:mod:`thoughtlab.attention.config`) and a
run context, and returns JSON-able tables ``pooling -> setting -> measurements``.
Seeds of data and models derive from ``ctx.seed`` alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from thoughtlab.attention import experiments as ex
from thoughtlab.attention.config import AddingConfig, BagsConfig, NeedleConfig, SEConfig
from thoughtlab.attention.tasks import adding_problem, bag_members, bags_from_members, needle_in_noise, noisy_channel_images
from thoughtlab.data import load_dataset
from thoughtlab.study import RunContext
from thoughtlab.train import fit, seed_everything

TARGET_DIGIT = 9  # Ilse et al.: a bag is positive if it holds a "9"
CURVE = (0.25, 0.5, 0.75)  # learning-curve points, as fractions of each model's step budget


def with_curve(final: dict[str, Any], curve: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The final measurement with the ones along training under ``"curve"``."""
    return final | {"curve": curve}


def _rng(seed: int, *parts: int) -> np.random.Generator:
    return np.random.default_rng([seed, *parts])


def _sub_seed(seed: int, task: int, index: int) -> int:
    return seed * 100_000 + task * 1_000 + index


# ---------------------------------------------------------------- adding problem
def run_adding(cfg: AddingConfig, ctx: RunContext) -> dict[str, dict[str, dict[str, float]]]:
    """Success share and marked-step weight for each pooling at each length."""
    table: dict[str, dict[str, dict[str, float]]] = {p: {} for p in cfg.poolings}
    for i, length in enumerate(ctx.progress(cfg.lengths, desc="adding problem")):
        train = adding_problem(cfg.train, length, _rng(ctx.seed, 1, i, 0))
        test = adding_problem(cfg.test, length, _rng(ctx.seed, 1, i, 1))
        for j, name in enumerate(cfg.poolings):
            model, curve = ex.train(lambda: ex.adding_model(name, cfg.hidden), train, steps=cfg.steps,
                                    batch_size=cfg.batch, lr=cfg.lr, seed=_sub_seed(ctx.seed, 1, 10 * i + j),
                                    device=ctx.device, loss_fn=ex.mse_on_scalar,
                                    measure=lambda net: ex.measure_adding(net, test), fractions=CURVE)
            table[name][str(length)] = with_curve(ex.measure_adding(model, test), curve)
        ctx.log(length=float(length), **{f"adding_success_{p}": table[p][str(length)]["success"] for p in table})
    return table


# ---------------------------------------------------------------- digit bags
def digit_features(cfg: BagsConfig, seed: int, device: torch.device) -> dict[str, Any]:
    """Frozen instance features: a small digit MLP trained on half of the training images (never used in bags)."""
    split = load_dataset(cfg.dataset)
    f = cfg.downsample

    def flat(x: np.ndarray) -> torch.Tensor:
        n, _, h, w = x.shape
        return torch.from_numpy(x.reshape(n, h // f, f, w // f, f).mean(axis=(2, 4)).reshape(n, -1))

    x_train, x_test = flat(split.x_train), flat(split.x_test)
    order = _rng(seed, 2, 0).permutation(len(x_train))
    for_features, for_bags = order[: len(order) // 2], order[len(order) // 2 :]
    seed_everything(_sub_seed(seed, 2, 999))
    net = nn.Sequential(nn.Linear(x_train.shape[1], 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    y_train = torch.from_numpy(split.y_train)
    fit(net, x_train[for_features], y_train[for_features], steps=cfg.feature_steps, batch_size=64, lr=cfg.lr,
        seed=_sub_seed(seed, 2, 999), device=device)
    embed = net[:4].eval()
    with torch.no_grad():
        train_features = embed(x_train[for_bags].to(device)).cpu().numpy()
        test_features = embed(x_test.to(device)).cpu().numpy()
        digit_accuracy = float((net(x_test.to(device)).argmax(1).cpu().numpy() == split.y_test).mean())
    side = split.x_train.shape[-1] // f
    return {"train": (train_features, split.y_train[for_bags]), "test": (test_features, split.y_test),
            "test_images": x_test.numpy().reshape(-1, side, side), "digit_accuracy": digit_accuracy}


def example_bags(model: ex.SetModel, test: Any, members: np.ndarray, feats: dict[str, Any]) -> list[dict[str, Any]]:
    """Two positive and one negative test bag: each instance's digit, image and attention weight."""
    _, weights = ex.predict(model, test)
    rows = list(np.flatnonzero(test.y == 1)[:2]) + list(np.flatnonzero(test.y == 0)[:1])
    labels, images = feats["test"][1], feats["test_images"]
    examples = []
    for row in rows:
        real = members[row][members[row] >= 0]
        examples.append({"label": int(test.y[row]), "digits": labels[real].tolist(),
                         "weights": np.round(weights[row, : len(real)], 4).tolist(),
                         "images": np.round(images[real], 2).tolist()})
    return examples


def run_bags(cfg: BagsConfig, ctx: RunContext) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """Test AUC (and witness weight, precision@1) per pooling, bag size and number of training bags."""
    feats = digit_features(cfg, ctx.seed, ctx.device)
    (train_x, train_y), (test_x, test_y) = feats["train"], feats["test"]
    table: dict[str, Any] = {p: {r: {} for r, _ in cfg.regimes} for p in cfg.poolings}
    examples: list[dict[str, Any]] = []
    for i, size in enumerate(ctx.progress(cfg.sizes, desc="digit bags")):
        members, y = bag_members(test_y, cfg.test, size, TARGET_DIGIT, _rng(ctx.seed, 2, i, 1))
        test = bags_from_members(test_x, test_y, members, y, TARGET_DIGIT)
        for k, (regime, n_bags) in enumerate(cfg.regimes):
            train_members, train_labels = bag_members(train_y, n_bags, size, TARGET_DIGIT, _rng(ctx.seed, 2, i, 2 + k))
            train = bags_from_members(train_x, train_y, train_members, train_labels, TARGET_DIGIT)
            for j, name in enumerate(cfg.poolings):
                model, curve = ex.train(lambda: ex.classifier_model(name, train_x.shape[1], cfg.hidden), train,
                                        steps=cfg.steps, batch_size=min(cfg.batch, n_bags), lr=cfg.lr,
                                        seed=_sub_seed(ctx.seed, 2, 100 * i + 10 * k + j), device=ctx.device,
                                        measure=lambda net: ex.measure_classifier(net, test), fractions=CURVE)
                table[name][regime][str(size)] = with_curve(ex.measure_classifier(model, test), curve)
                if i == 0 and k == len(cfg.regimes) - 1 and name == "additive":
                    examples = example_bags(model, test, members, feats)
        ctx.log(bag_size=float(size), **{f"bags_auc_{p}": table[p][cfg.regimes[-1][0]][str(size)]["auc"]
                                         for p in cfg.poolings})
    return table, examples, feats["digit_accuracy"]


# ---------------------------------------------------------------- needle in noise
def run_needle(cfg: NeedleConfig, ctx: RunContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accuracy, needle weight and precision@1 over length (fixed SNR), and over SNR (fixed length)."""
    by_length: dict[str, Any] = {p: {} for p in cfg.poolings}
    for i, length in enumerate(ctx.progress(cfg.lengths, desc="needle over length")):
        train = needle_in_noise(cfg.train, length, cfg.dim, cfg.snr, _rng(ctx.seed, 3, i, 0))
        test = needle_in_noise(cfg.test, length, cfg.dim, cfg.snr, _rng(ctx.seed, 3, i, 1))
        for j, name in enumerate(cfg.poolings):
            model, curve = _needle_model(cfg, name, train, ctx, 10 * i + j, lambda net: ex.measure_classifier(net, test))
            by_length[name][str(length)] = with_curve(ex.measure_classifier(model, test), curve)
        ctx.log(needle_length=float(length), **{f"needle_acc_{p}": by_length[p][str(length)]["accuracy"] for p in by_length})
    low, high = min(cfg.sweep_snrs), max(cfg.sweep_snrs)
    snr_rng = _rng(ctx.seed, 3, 500, 0)
    train = needle_in_noise(cfg.train, cfg.sweep_length, cfg.dim,
                            snr_rng.uniform(low, high, cfg.train), snr_rng)
    by_snr: dict[str, Any] = {p: {} for p in cfg.sweep_poolings}
    for j, name in enumerate(ctx.progress(cfg.sweep_poolings, desc="needle over SNR")):
        model, _ = _needle_model(cfg, name, train, ctx, 900 + j)
        for k, snr in enumerate(cfg.sweep_snrs):
            test = needle_in_noise(cfg.test, cfg.sweep_length, cfg.dim, snr, _rng(ctx.seed, 3, 600 + k, 1))
            by_snr[name][f"{snr:g}"] = ex.measure_classifier(model, test)
    return by_length, by_snr


def _needle_model(cfg: NeedleConfig, name: str, train: Any, ctx: RunContext, index: int,
                  measure: Any = None) -> tuple[ex.SetModel, dict[str, Any]]:
    return ex.train(lambda: ex.classifier_model(name, cfg.dim, cfg.hidden), train, steps=cfg.steps,
                    batch_size=cfg.batch, lr=cfg.lr, seed=_sub_seed(ctx.seed, 3, index), device=ctx.device,
                    measure=measure, fractions=CURVE if measure else ())


# ---------------------------------------------------------------- squeeze-and-excitation
def run_se(cfg: SEConfig, ctx: RunContext) -> dict[str, Any]:
    """Digits with noisy copies and pure-noise channels; do the learned SE gates follow per-channel SNR?"""
    split = load_dataset("digits")
    x_train, snr = noisy_channel_images(split.x_train, cfg.signal_noise, cfg.pure_noise, _rng(ctx.seed, 4, 0))
    x_test, _ = noisy_channel_images(split.x_test, cfg.signal_noise, cfg.pure_noise, _rng(ctx.seed, 4, 1))
    seed = _sub_seed(ctx.seed, 4, 0)
    seed_everything(seed)
    model = ex.SEClassifier(len(snr), cfg.reduction, cfg.width)
    fit(model, torch.from_numpy(x_train), torch.from_numpy(split.y_train), steps=cfg.steps,
        batch_size=cfg.batch, lr=cfg.lr, seed=seed, device=ctx.device)
    gates = ex.mean_gates(model, torch.from_numpy(x_test))
    with torch.no_grad():
        model.eval()
        accuracy = float((model(torch.from_numpy(x_test).to(ctx.device)).argmax(1).cpu().numpy() == split.y_test).mean())
    return {"snr": snr.tolist(), "gates": gates.tolist(), "spearman": ex.gate_snr_correlation(gates, snr),
            "accuracy": accuracy, "signal_channels": len(cfg.signal_noise),
            "noise_std": [*cfg.signal_noise, *cfg.pure_noise]}
