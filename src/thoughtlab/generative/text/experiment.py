"""One replicate of the text experiment (research notes E3a), at a size set by :class:`TextConfig`.

A fresh oracle and data per replicate; the MLE generator is pre-trained, then three arms continue from it
for the same number of steps: more MLE (the control that draws the temperature curve), the Gumbel-softmax
GAN and SeqGAN.  At each fraction of that budget every arm is scored (NLL_oracle, NLL_test) and each GAN
point is placed against the MLE arm's temperature curve (:func:`evaluate.curve_gap`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Any

from thoughtlab.generative.text import evaluate, oracle, train
from thoughtlab.generative.text.lstm import LstmShape, TokenLSTM, sample_in_batches

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


def run_text(cfg: TextConfig, seed: int) -> dict[str, Any]:
    """Scores of one replicate: floor, uniform, per-fraction arms, gaps and the final MLE curve."""
    orc = oracle.make_oracle(cfg.shape, seed)
    data = sample_in_batches(orc, cfg.n_train, seed + 1)
    test = sample_in_batches(orc, cfg.n_test, seed + 2)
    floor = oracle.entropy_rate(orc, cfg.n_floor, seed + 3)
    gen = TokenLSTM(cfg.shape, cfg.gen_init_std, seed + 4)
    opt = train.mle_train(gen, data, cfg.pre_steps, cfg.batch, cfg.lr, seed + 5)
    checkpoints = tuple(max(1, round(f * cfg.adv.steps)) for f in FRACTIONS)
    out: dict[str, Any] = {"floor": asdict(floor), "uniform": math.log(cfg.shape.vocab), "fractions": {}}
    mle = copy.deepcopy(gen)
    mle_opt = torch_opt_copy(opt, mle)
    done = 0
    for frac, step in zip(FRACTIONS, checkpoints):
        train.mle_train(mle, data, step - done, cfg.batch, cfg.lr, seed + 6 + step, mle_opt)
        done = step
        curve = evaluate.temperature_curve(mle, orc, test, cfg.n_eval, seed + 7, cfg.temperatures)
        out["fractions"][frac] = {"curve": [_point(p) for p in curve]}
    for remedy in train.REMEDIES:
        arm = copy.deepcopy(gen)

        def score_at(step: int, arm: TokenLSTM = arm, remedy: str = remedy) -> None:
            frac = FRACTIONS[checkpoints.index(step)]
            point = evaluate.score(arm, orc, test, cfg.n_eval, seed + 8)
            curve = [evaluate.Point(p["temperature"], p["nll_oracle"], p["nll_test"], (), ())
                     for p in out["fractions"][frac]["curve"]]
            gap, inside = evaluate.curve_gap(curve, point)
            out["fractions"][frac][remedy] = _point(point) | {"gap": gap, "inside": inside}

        train.adversarial(remedy, arm, data, cfg.adv, seed + 9, checkpoints, score_at)
    final = out["fractions"][1.0]
    mle_t1 = next(p for p in final["curve"] if p["temperature"] == 1.0)
    out["mle"] = mle_t1
    out["score"] = {arm: (out["uniform"] - p["nll_test"]) / (out["uniform"] - floor.mean)
                    for arm, p in (("mle", mle_t1), *((r, final[r]) for r in train.REMEDIES))}
    out["config"] = {"vocab": cfg.shape.vocab, "length": cfg.shape.length, "pre_steps": cfg.pre_steps, "adv_steps": cfg.adv.steps}
    return out


def torch_opt_copy(opt: Any, model: TokenLSTM) -> Any:
    """An Adam for ``model`` carrying ``opt``'s state (moments), so the MLE arm continues like pre-training."""
    new = type(opt)(model.parameters(), **opt.defaults)
    new.load_state_dict(copy.deepcopy(opt.state_dict()))
    return new
