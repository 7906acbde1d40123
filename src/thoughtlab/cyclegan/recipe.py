"""The CycleGAN recipe (Zhu et al. 2017, §3 Eq. 1–3 and §4; the reference's ``cycle_gan_model.py``).

Two generators G: A→B (``G_A``), F: B→A (``G_B``) and two discriminators D_B (``D_A``, judges B) and
D_A (``D_B``, judges A), as the reference names them.  One iteration:

1. fake_B = G(a), rec_A = F(fake_B), fake_A = F(b), rec_B = G(fake_A).
2. Generators (discriminators frozen), Eq. 3:
   L_G = LSGAN(D_B(fake_B), 1) + LSGAN(D_A(fake_A), 1) + λ_A‖rec_A − a‖₁ + λ_B‖rec_B − b‖₁
         + λ_idt (λ_B‖G(b) − b‖₁ + λ_A‖F(a) − a‖₁)        (identity, §5.2; λ_idt = 0.5)
3. Discriminators on pooled fakes: ½[LSGAN(D(real), 1) + LSGAN(D(pool(fake)), 0)] for each D.

Adam (lr 2e-4, β = (0.5, 0.999)) for the two generators together and for the two discriminators
together; the learning rate follows :func:`~thoughtlab.cyclegan.parts.lr_factor` by epoch.
:meth:`CycleGAN.batch` depends only on (seed, step); the training core's TrainState saves the rest, so
training resumed from a checkpoint continues exactly.
Under torchrun each process takes its slice of the global batch and gradients are averaged across
processes before each optimiser step (what DistributedDataParallel does).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.cyclegan.data import Unpaired, crop_and_flip, to_model_range
from thoughtlab.cyclegan.networks import NLayerDiscriminator, ResnetGenerator, init_weights
from thoughtlab.cyclegan.parts import ImagePool, lr_factor, lsgan_loss, set_requires_grad
from thoughtlab.errors import UserError
from thoughtlab.train import TrainState, distributed

LOSS_NAMES = ("D_A", "G_A", "cycle_A", "idt_A", "D_B", "G_B", "cycle_B", "idt_B")


@dataclass(frozen=True)
class Options:
    """Training options, named as the reference's (defaults = the paper's 256² horse2zebra set-up).

    ``epoch_size`` (iterations per epoch; default max(|A|, |B|) / batch_size) and ``identity_lambda``
    (the λ the identity term is scaled by; default λ_A and λ_B as the reference) are additions for
    short CPU runs and for the "GAN + identity, no cycle" ablation.
    """

    n_epochs: int = 100
    n_epochs_decay: int = 100
    lambda_A: float = 10.0
    lambda_B: float = 10.0
    lambda_identity: float = 0.5
    identity_lambda: float | None = None
    pool_size: int = 50
    lr: float = 2e-4
    beta1: float = 0.5
    ngf: int = 64
    ndf: int = 64
    n_blocks: int = 9
    n_layers_D: int = 3
    load_size: int = 286
    crop_size: int = 256
    no_flip: bool = False
    batch_size: int = 1
    max_dataset_size: int | None = None
    epoch_size: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_epochs", "n_epochs_decay", "pool_size", "n_blocks"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name} must be >= 0, got {getattr(self, name)}")
        for name in ("ngf", "ndf", "n_layers_D", "batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be >= 1, got {getattr(self, name)}")
        if self.n_epochs + self.n_epochs_decay < 1:
            raise UserError("--n_epochs + --n_epochs_decay must be at least 1")
        if self.crop_size >> self.n_layers_D < 3:
            raise UserError(f"--crop_size {self.crop_size} is too small for --n_layers_D {self.n_layers_D} (the patch map "
                            f"would vanish); use --n_layers_D {max(1, (self.crop_size // 3).bit_length() - 1)} or a larger crop")
        if min(self.lambda_A, self.lambda_B, self.lambda_identity) < 0 or self.lr <= 0:
            raise UserError("--lambda_A, --lambda_B and --lambda_identity must be >= 0 and --lr > 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


MODEL_NAMES = ("G_A", "G_B", "D_A", "D_B")


def build_models(opt: Options, input_nc: int, output_nc: int, device: torch.device | str = "cpu") -> dict[str, nn.Module]:
    """The four networks (reference names), N(0, 0.02)-initialised from the global RNG seeded by ``opt.seed``."""
    torch.manual_seed(opt.seed)
    models = {
        "G_A": ResnetGenerator(input_nc, output_nc, opt.ngf, opt.n_blocks),
        "G_B": ResnetGenerator(output_nc, input_nc, opt.ngf, opt.n_blocks),
        "D_A": NLayerDiscriminator(output_nc, opt.ndf, opt.n_layers_D),
        "D_B": NLayerDiscriminator(input_nc, opt.ndf, opt.n_layers_D),
    }
    return {name: init_weights(net).to(device) for name, net in models.items()}


def child_seed(*keys: int) -> int:
    """A 63-bit seed derived from integer keys (numpy SeedSequence), independent across keys."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def new_state(opt: Options, input_nc: int, output_nc: int, device: torch.device | str = "cpu") -> TrainState:
    """Fresh networks, two Adam optimisers, two image pools and an empty loss history (a core TrainState).

    The identity loss feeds B images to G: A→B, so it needs A and B to have equal channel counts.
    """
    if opt.lambda_identity > 0 and input_nc != output_nc:
        raise UserError(f"the identity loss feeds B images to G: A->B, but A has {input_nc} channel(s) and B "
                        f"{output_nc}; pass --lambda_identity 0 or give both domains the same channels")
    models = build_models(opt, input_nc, output_nc, device)
    betas = (opt.beta1, 0.999)
    generators = itertools.chain(models["G_A"].parameters(), models["G_B"].parameters())
    discriminators = itertools.chain(models["D_A"].parameters(), models["D_B"].parameters())
    rank = distributed.rank()
    return TrainState(
        opt.to_dict(), models=models,
        optimizers={"G": torch.optim.Adam(generators, lr=opt.lr, betas=betas),
                    "D": torch.optim.Adam(discriminators, lr=opt.lr, betas=betas)},
        objects={"pool_A": ImagePool(opt.pool_size, child_seed(opt.seed, 1, rank), device),
                 "pool_B": ImagePool(opt.pool_size, child_seed(opt.seed, 2, rank), device)},
        records={"losses": {name: [] for name in LOSS_NAMES}, "input_nc": input_nc, "output_nc": output_nc},
    )


def epoch_size(opt: Options, data: Unpaired) -> int:
    """Iterations per epoch: ``opt.epoch_size`` or max(|A|, |B|) // batch_size (at least 1)."""
    return opt.epoch_size or max(1, max(len(data.train_a), len(data.train_b)) // opt.batch_size)


def total_steps(opt: Options, data: Unpaired) -> int:
    return (opt.n_epochs + opt.n_epochs_decay) * epoch_size(opt, data)


class CycleGAN:
    """The recipe the training core runs: ``batch(step)`` then ``step(state, batch)``."""

    def __init__(self, opt: Options, data: Unpaired):
        self.opt, self.data = opt, data
        self.per_epoch = epoch_size(opt, data)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The global batch of ``step``: A in a per-epoch seeded order, B drawn at random (unaligned), crop/flip.

        Depends only on (opt.seed, step): nothing to save.
        """
        opt, data = self.opt, self.data
        epoch, position = divmod(step, self.per_epoch)
        n_a = len(data.train_a)
        order = torch.randperm(n_a, generator=torch.Generator().manual_seed(child_seed(opt.seed, 10, epoch)))
        idx_a = order[(position * opt.batch_size + torch.arange(opt.batch_size)) % n_a]
        gen = torch.Generator().manual_seed(child_seed(opt.seed, 11, step))
        idx_b = torch.randint(len(data.train_b), (opt.batch_size,), generator=gen)
        flip = not opt.no_flip
        real_a = crop_and_flip(data.train_a.images[idx_a], opt.crop_size, flip, gen)
        real_b = crop_and_flip(data.train_b.images[idx_b], opt.crop_size, flip, gen)
        return to_model_range(real_a), to_model_range(real_b)

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        """One iteration on this process's slice of the global batch; the eight losses are also recorded."""
        local = distributed.local_slice(self.opt.batch_size)
        device = next(state.models["G_A"].parameters()).device
        real_a, real_b = (x[local].to(device) for x in batch)
        losses = cyclegan_step(self.opt, state, real_a, real_b, state.step // self.per_epoch)
        for name, value in losses.items():
            state.records["losses"][name].append(value)
        return losses


def _l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(x, y)


def cyclegan_step(opt: Options, state: TrainState, real_a: torch.Tensor, real_b: torch.Tensor,
                  epoch: int) -> dict[str, float]:
    """One CycleGAN iteration (steps 1–3 of the module docstring); returns the eight losses."""
    m, opt_g, opt_d = state.models, state.optimizers["G"], state.optimizers["D"]
    factor = lr_factor(epoch, opt.n_epochs, opt.n_epochs_decay)
    for group in (*opt_g.param_groups, *opt_d.param_groups):
        group["lr"] = opt.lr * factor
    fake_b = m["G_A"](real_a)
    rec_a = m["G_B"](fake_b)
    fake_a = m["G_B"](real_b)
    rec_b = m["G_A"](fake_a)
    generators, discriminators = [m["G_A"], m["G_B"]], [m["D_A"], m["D_B"]]

    set_requires_grad(discriminators, False)
    opt_g.zero_grad(set_to_none=True)
    losses = {"G_A": lsgan_loss(m["D_A"](fake_b), True), "G_B": lsgan_loss(m["D_B"](fake_a), True),
              "cycle_A": _l1(rec_a, real_a) * opt.lambda_A, "cycle_B": _l1(rec_b, real_b) * opt.lambda_B}
    idt_a_weight = opt.lambda_identity * (opt.identity_lambda if opt.identity_lambda is not None else opt.lambda_B)
    idt_b_weight = opt.lambda_identity * (opt.identity_lambda if opt.identity_lambda is not None else opt.lambda_A)
    zero = real_a.new_zeros(())
    losses["idt_A"] = _l1(m["G_A"](real_b), real_b) * idt_a_weight if idt_a_weight > 0 else zero
    losses["idt_B"] = _l1(m["G_B"](real_a), real_a) * idt_b_weight if idt_b_weight > 0 else zero
    sum(losses.values()).backward()
    distributed.average_gradients(p for net in generators for p in net.parameters())
    opt_g.step()

    set_requires_grad(discriminators, True)
    opt_d.zero_grad(set_to_none=True)
    pooled_b, pooled_a = state.objects["pool_B"].query(fake_b), state.objects["pool_A"].query(fake_a)
    losses["D_A"] = 0.5 * (lsgan_loss(m["D_A"](real_b), True) + lsgan_loss(m["D_A"](pooled_b.detach()), False))
    losses["D_B"] = 0.5 * (lsgan_loss(m["D_B"](real_a), True) + lsgan_loss(m["D_B"](pooled_a.detach()), False))
    (losses["D_A"] + losses["D_B"]).backward()
    distributed.average_gradients(p for net in discriminators for p in net.parameters())
    opt_d.step()
    return {name: distributed.all_reduce_mean(losses[name].item()) for name in LOSS_NAMES}
