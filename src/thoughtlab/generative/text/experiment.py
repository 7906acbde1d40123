"""One replicate of the text experiment (research notes E3a), at a size set by :class:`TextConfig`.

A fresh oracle (seeded, or the one given: SeqGAN's published file, ``thoughtlab oracle PARAMS --train``) and
data per replicate; the MLE generator is pre-trained, then three arms continue from it
for the same number of steps: more MLE (the control that draws the temperature curve), the Gumbel-softmax
GAN and SeqGAN (the MLE arm draws its batches from one generator, seed + 6).  At each fraction of that budget every arm is scored (NLL_oracle, NLL_test) and each GAN
point is placed against the MLE arm's temperature curve (:func:`evaluate.curve_gap`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from thoughtlab.errors import BadInput
from thoughtlab.generative.text import evaluate, oracle, train
from thoughtlab.generative.text.lstm import LstmShape, TokenLSTM, sample_in_batches
from thoughtlab.train import Hook, TrainState

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class TextConfig:
    """shape: oracle/generator; n_train/n_test: oracle samples; n_eval: generator samples per score;
    n_floor: samples for the entropy rate; pre_steps: MLE pre-training; adv: the adversarial phase (and the
    MLE arm's extra steps); temperatures: the sweep."""

    shape: LstmShape = LstmShape(vocab=500)
    n_train: int = 5000
    n_test: int = 500
    n_eval: int = 500
    n_floor: int = 5000
    pre_steps: int = 300
    batch: int = 64
    lr: float = 1e-2
    adv: train.AdvConfig = train.AdvConfig(steps=60)
    temperatures: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9, 1.0, 1.2)
    gen_init_std: float = 0.1


def _point(p: evaluate.Point) -> dict[str, float]:
    return {"temperature": p.temperature, "nll_oracle": p.nll_oracle, "nll_test": p.nll_test}


def _checkpoint(workdir: Path | None, name: str) -> Path | None:
    return None if workdir is None else workdir / f"{name}.pt"


def run_text(cfg: TextConfig, seed: int, workdir: Path | None = None, orc: TokenLSTM | None = None) -> dict[str, Any]:
    """Scores of one replicate: floor, uniform, per-fraction arms, gaps and the final MLE curve.

    The oracle is ``orc`` if given (its shape must equal ``cfg.shape``: the generator has the oracle's shape,
    as in SeqGAN), else a fresh N(0, 1) oracle of ``cfg.shape`` drawn from ``seed``.
    Every training phase runs on the training core; with ``workdir`` each checkpoints there
    (``pretrain.pt``, ``mle.pt``, ``gumbel.pt``, ``seqgan.pt``) and a rerun resumes where it stopped.
    The scores taken at the budget fractions are kept in the checkpoints' records, so they survive too."""
    orc = oracle.make_oracle(cfg.shape, seed) if orc is None else check_shape(cfg, orc)
    data = sample_in_batches(orc, cfg.n_train, seed + 1)
    test = sample_in_batches(orc, cfg.n_test, seed + 2)
    floor = oracle.entropy_rate(orc, cfg.n_floor, seed + 3)
    gen = TokenLSTM(cfg.shape, cfg.gen_init_std, seed + 4)
    pre = train.mle_train(gen, data, cfg.pre_steps, cfg.batch, cfg.lr, seed + 5, checkpoint=_checkpoint(workdir, "pretrain"))
    marks = tuple(max(1, round(f * cfg.adv.steps)) for f in FRACTIONS)
    frac_of = {step: str(frac) for frac, step in zip(FRACTIONS, marks)}

    def record_curve(state: TrainState) -> None:
        curve = evaluate.temperature_curve(state.models["gen"], orc, test, cfg.n_eval, seed + 7, cfg.temperatures)
        state.records.setdefault("curve", {})[frac_of[state.step]] = [_point(p) for p in curve]

    mle = copy.deepcopy(gen)
    mle_state = train.mle_train(mle, data, cfg.adv.steps, cfg.batch, cfg.lr, seed + 6, torch_opt_copy(pre.optimizers["gen"], mle),
                                checkpoint=_checkpoint(workdir, "mle"), hooks=[Hook(set(marks), record_curve)])
    curves = mle_state.records["curve"]
    out: dict[str, Any] = {"floor": asdict(floor), "uniform": math.log(cfg.shape.vocab),
                           "fractions": {frac: {"curve": curves[str(frac)]} for frac in FRACTIONS}}
    for remedy in train.REMEDIES:
        def score_at(step: int, state: TrainState) -> None:
            point = evaluate.score(state.models["gen"], orc, test, cfg.n_eval, seed + 8)
            curve = [evaluate.Point(p["temperature"], p["nll_oracle"], p["nll_test"], (), ()) for p in curves[frac_of[step]]]
            gap, inside = evaluate.curve_gap(curve, point)
            state.records.setdefault("points", {})[frac_of[step]] = _point(point) | {"gap": gap, "inside": inside}

        arm = train.adversarial(remedy, copy.deepcopy(gen), data, cfg.adv, seed + 9, marks, score_at,
                                checkpoint=_checkpoint(workdir, remedy))
        for frac in FRACTIONS:
            out["fractions"][frac][remedy] = arm.records["points"][str(frac)]
    final = out["fractions"][1.0]
    mle_t1 = next(p for p in final["curve"] if p["temperature"] == 1.0)
    out["mle"] = mle_t1
    out["score"] = {arm: (out["uniform"] - p["nll_test"]) / (out["uniform"] - floor.mean)
                    for arm, p in (("mle", mle_t1), *((r, final[r]) for r in train.REMEDIES))}
    out["config"] = {"vocab": cfg.shape.vocab, "length": cfg.shape.length, "pre_steps": cfg.pre_steps, "adv_steps": cfg.adv.steps}
    return out


def check_shape(cfg: TextConfig, orc: TokenLSTM) -> TokenLSTM:
    """``orc`` if the config's generator shape is the oracle's, else a one-line :class:`BadInput`."""
    if cfg.shape != orc.shape:
        raise BadInput(f"text config shape {cfg.shape} contradicts the oracle's {orc.shape}; "
                       "build the config with shape=oracle.shape (dataclasses.replace)")
    return orc


def torch_opt_copy(opt: Any, model: TokenLSTM) -> Any:
    """An Adam for ``model`` carrying ``opt``'s state (moments), so the MLE arm continues like pre-training."""
    new = type(opt)(model.parameters(), **opt.defaults)
    new.load_state_dict(copy.deepcopy(opt.state_dict()))
    return new
