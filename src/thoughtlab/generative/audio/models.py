"""Small WaveGAN- and SpecGAN-style GANs for 1024-sample clips (Donahue, McAuley, Puckette, ICLR 2019).

- WaveGAN: DCGAN flattened to 1-D — z → dense → (64, 16) → three transposed convolutions, kernel 25,
  stride 4 → 1024 samples, tanh.  Its discriminator mirrors it with strided convolutions and LeakyReLU(0.2),
  and optionally *phase shuffle* (§3.3): each layer's activations are shifted by a random k ∈ [−n, n]
  per example, reflection-padded, n = 2, so D cannot key on the generator's periodic artefacts.
- SpecGAN: a 2-D DCGAN on the log-magnitude STFT (n_fft 256, hop 128, Hann; 128 bins × 8 frames),
  each frequency bin standardised with the training set's moments and clipped at 3σ (§3.4); clips come
  back by Griffin–Lim (Griffin & Lim 1984) phase recovery, the log offset undone and the clip clamped to
  [−1, 1].  The path alone is sound (tested: a pure tone of each pitch comes back with its pitch and level;
  real clips round-trip at pitch precision 0.965 after 32 iterations, 1.0 after 100).
Differences from the paper, for CPU: far fewer channels, the non-saturating loss instead of WGAN-GP,
and 1024- instead of 16384-sample clips.  :class:`AudioGan` is a recipe on :func:`thoughtlab.train.train`.

Why SpecGAN does not learn pitch at the quick budget (checked for defects, none found; pilots on data seed 100,
GAN seed 110, 1000 training clips, batch 32, lr 1e-3, 200 samples scored).  Faithful: the per-bin moments, 3σ clip
and /3 are the official ``t_to_f`` (train_specgan.py); the decoder inverts the encoder bin for bin; the
generator's (B, 128, 8) is the data's (bins, frames) layout, D sees both in [−1, 1], and Adam (lr, betas) is
WaveGAN's.  Two representation choices differ from the official code: torch's centred, reflection-padded frames
(TF: ``pad_end``), whose frame 0 holds the reflection's kink, so high bins sit at −3.5 nats there and at the −9.2
floor elsewhere; and a log offset of 1e-4 (TF: 1e-6).  Learnable: on clips of one pitch the same model reaches
precision 0.36, 0.69, 0.78, 0.85 at 125..500 steps (data seed 102, GAN seed 112, another pitch: 0.69, 0.94, 0.95,
0.79).  On all 8 pitches it is slow: 1000 steps give precision 0 at every quarter (spectral FD 2991, 3115, 2479,
1366); trained 3000 steps the same run gives 0, 0, 0.93, 0.64 at 750..3000 (FD 2479, 2595, 2830, 396), a second
run (data seed 101, GAN seed 111) 0.24, 0.01, 0.40, 0.91 (FD 2061, 2694, 2005, 1220), each on one pitch (coverage
1 of 8: mode collapse, as WaveGAN's 1–2 of 8).  At 1000 steps the cause is the tone rows, not the off-pitch floor:
putting the nearest real clip's values into the generated spectrograms' silent bins (real value ≤ 0.2) leaves
precision at 0; putting them into the loud bins lifts it to 0.62 (nearest real clips alone: 0.96).  The generator
puts one pitch row at the right level (2.6 vs 2.4 nats) but its level jumps from frame to frame (mean |second
difference| 1.9 nats vs 0.002 in the data; lag-1 autocorrelation of frame differences −0.70 vs +0.99: the stride-2
transposed convolutions' checkerboard), its frame 0 is 2.2 nats too loud (as if copying the data's frame-0 kink)
and its neighbour bins are off by up to 1.2 nats; Griffin–Lim turns that into amplitude modulation, sidebands
outside the score's ±2-bin harmonic windows and clips 2.5× the data's RMS (the spectral peak lands on a pitch in
14 %); at 3000 steps the second difference is down to 0.77 nats, 90 % of clips pass the HNR test and 68 % peak on
a pitch.  The score tolerates little: Gaussian noise added to real normalised spectrograms drops precision to 0.66
/ 0.31 / 0.03 at σ = 0.05 / 0.1 / 0.2 (0.1 normalised is 1.2 nats on a pitch row), 0.05 at σ = 0.2 on the loud
bins alone, but still 0.85 on the silent bins alone.  A diagnostic generator with nearest-neighbour upsampling and
3×3 convolutions (Odena et al. 2016) instead of transposed ones: 0.005, 0, 0.005, 0.165 (one seed; it removes
most of the alternation, autocorrelation −0.21, but blurs neighbour bins), so it was not adopted.  Training costs
43–48 CPU-s per 1000 steps (1 thread) plus ≈ 1.5 CPU-s per score of 200 samples (Griffin–Lim, 32 iterations).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import UnknownName
from thoughtlab.train import Hook, TrainState, optimizer_step, train

N_FFT, HOP, FRAMES, FREQS = 256, 128, 8, 128
LOG_OFFSET = 1e-4  # log(|S| + LOG_OFFSET): silence sits at log(1e-4) instead of −∞
VARIANTS = ("wavegan", "wavegan_ps", "specgan")


def phase_shuffle(x: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    """Shift each example by k ~ U{−n..n} along time with reflection padding (WaveGAN §3.3)."""
    if n == 0:
        return x
    length = x.shape[-1]
    padded = F.pad(x, (n, n), mode="reflect")
    shifts = torch.randint(-n, n + 1, (x.shape[0],), generator=g)
    idx = (torch.arange(length)[None, :] + n - shifts[:, None]).unsqueeze(1).expand(-1, x.shape[1], -1)
    return padded.gather(-1, idx)


class WaveGenerator(nn.Module):
    def __init__(self, z_dim: int = 32, ch: int = 32):
        super().__init__()
        self.z_dim, self.ch = z_dim, ch
        self.fc = nn.Linear(z_dim, 2 * ch * 16)
        self.ups = nn.ModuleList([nn.ConvTranspose1d(2 * ch, ch, 24, 4, 10), nn.ConvTranspose1d(ch, ch // 2, 24, 4, 10),
                                  nn.ConvTranspose1d(ch // 2, 1, 24, 4, 10)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z)).view(-1, 2 * self.ch, 16)
        for k, up in enumerate(self.ups):
            h = up(h)
            h = torch.tanh(h) if k == len(self.ups) - 1 else F.relu(h)
        return h.squeeze(1)


class WaveDiscriminator(nn.Module):
    def __init__(self, ch: int = 32, shuffle: int = 0):
        super().__init__()
        self.shuffle = shuffle
        self.convs = nn.ModuleList([nn.Conv1d(1, ch // 2, 25, 4, 12), nn.Conv1d(ch // 2, ch, 25, 4, 12), nn.Conv1d(ch, 2 * ch, 25, 4, 12)])
        self.out = nn.Linear(2 * ch * 16, 1)

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        h = x.unsqueeze(1)
        for k, conv in enumerate(self.convs):
            h = F.leaky_relu(conv(h), 0.2)
            if self.shuffle and g is not None and k < len(self.convs) - 1:
                h = phase_shuffle(h, self.shuffle, g)
        return self.out(h.flatten(1)).squeeze(-1)


class SpecGenerator(nn.Module):
    def __init__(self, z_dim: int = 32, ch: int = 32):
        super().__init__()
        self.z_dim, self.ch = z_dim, ch
        self.fc = nn.Linear(z_dim, 2 * ch * 8)
        self.ups = nn.ModuleList([nn.ConvTranspose2d(2 * ch, ch, 4, (4, 2), (0, 1)), nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1),
                                  nn.ConvTranspose2d(ch // 2, 1, 4, 2, 1)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.fc(z)).view(-1, 2 * self.ch, 8, 1)
        for k, up in enumerate(self.ups):
            h = up(h)
            h = torch.tanh(h) if k == len(self.ups) - 1 else F.relu(h)
        return h.squeeze(1)  # (B, 128, 8) in [−1, 1]


class SpecDiscriminator(nn.Module):
    def __init__(self, ch: int = 32):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, ch // 2, 4, 2, 1), nn.Conv2d(ch // 2, ch, 4, 2, 1), nn.Conv2d(ch, 2 * ch, 4, (4, 2), (0, 1))])
        self.out = nn.Linear(2 * ch * 8, 1)

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        h = x.unsqueeze(1)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)
        return self.out(h.flatten(1)).squeeze(-1)


def _window() -> torch.Tensor:
    return torch.hann_window(N_FFT)


def log_magnitude(clips: torch.Tensor) -> torch.Tensor:
    """log |STFT| (B, 128, 8): Nyquist bin and last frame dropped."""
    spec = torch.stft(clips, N_FFT, HOP, window=_window(), return_complex=True)
    return torch.log(spec.abs()[:, :FREQS, :FRAMES] + LOG_OFFSET)


@dataclass
class SpecNorm:
    """Per-frequency moments of the training log-magnitudes (SpecGAN §3.4)."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def fit(cls, clips: torch.Tensor) -> "SpecNorm":
        logmag = log_magnitude(clips)
        return cls(logmag.mean((0, 2), keepdim=True)[0], logmag.std((0, 2), keepdim=True)[0] + 1e-4)

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        return ((log_magnitude(clips) - self.mean) / self.std).clamp(-3, 3) / 3

    def decode(self, normed: torch.Tensor, iterations: int = 32, seed: int = 0) -> torch.Tensor:
        """Clips from normalised log-magnitudes by Griffin–Lim (random initial phase, ``iterations`` rounds),
        clamped to [−1, 1] as every generator's clips are (WaveGAN's tanh)."""
        mag = (torch.exp(normed * 3 * self.std + self.mean) - LOG_OFFSET).clamp_min(0)  # inverse of log_magnitude
        mag = F.pad(mag, (0, 1, 0, 1))  # Nyquist bin zero, last frame ...
        mag[:, :, -1] = mag[:, :, -2]  # ... repeated
        g = torch.Generator().manual_seed(seed)
        phase = torch.rand(mag.shape, generator=g) * 2 * np.pi
        for _ in range(iterations):
            clips = torch.istft(torch.polar(mag, phase), N_FFT, HOP, window=_window(), length=1024)
            phase = torch.stft(clips, N_FFT, HOP, window=_window(), return_complex=True).angle()
        return torch.istft(torch.polar(mag, phase), N_FFT, HOP, window=_window(), length=1024).clamp(-1, 1)


@dataclass(frozen=True)
class AudioGanConfig:
    steps: int = 600
    batch: int = 32
    lr: float = 2e-4
    z_dim: int = 32
    channels: int = 32
    shuffle: int = 2


class AudioGan:
    """Recipe for one variant (wavegan, wavegan_ps, specgan): its nets and optimisers in ``self.state``, its data
    transform and sampler.  All draws (batch, latents, phase shuffles) come from ``state.generators["draw"]``."""

    def __init__(self, variant: str, clips: np.ndarray, cfg: AudioGanConfig, seed: int):
        if variant not in VARIANTS:
            raise UnknownName("audio GAN variant", variant, VARIANTS)
        torch.manual_seed(seed)
        self.variant, self.cfg = variant, cfg
        self.g = torch.Generator().manual_seed(seed)
        x = torch.from_numpy(clips)
        if variant == "specgan":
            self.norm = SpecNorm.fit(x)
            self.data = self.norm.encode(x)
            gen, disc = SpecGenerator(cfg.z_dim, cfg.channels), SpecDiscriminator(cfg.channels)
        else:
            self.norm, self.data = None, x
            gen = WaveGenerator(cfg.z_dim, cfg.channels)
            disc = WaveDiscriminator(cfg.channels, cfg.shuffle if variant == "wavegan_ps" else 0)
        settings = {k: v for k, v in asdict(cfg).items() if k != "steps"}  # a resumed run may extend the budget
        self.state = TrainState({"variant": variant, "seed": seed, **settings}, models={"gen": gen, "disc": disc},
                                optimizers={"gen": torch.optim.Adam(gen.parameters(), cfg.lr, betas=(0.5, 0.9)),
                                            "disc": torch.optim.Adam(disc.parameters(), cfg.lr, betas=(0.5, 0.9))},
                                generators={"draw": self.g})

    def batch(self, step: int) -> int:
        return step

    def step(self, state: TrainState, _: int) -> dict[str, float]:
        """One discriminator and one generator step (non-saturating loss, Goodfellow et al. 2014)."""
        gen, disc, b = state.models["gen"], state.models["disc"], self.cfg.batch
        real = self.data[torch.randint(0, len(self.data), (b,), generator=self.g)]
        fake = gen(torch.randn(b, self.cfg.z_dim, generator=self.g))
        loss_d = F.softplus(-disc(real, self.g)).mean() + F.softplus(disc(fake.detach(), self.g)).mean()
        optimizer_step(state.optimizers["disc"], loss_d)
        fake = gen(torch.randn(b, self.cfg.z_dim, generator=self.g))
        loss_g = F.softplus(-disc(fake, self.g)).mean()
        optimizer_step(state.optimizers["gen"], loss_g)
        return {"d_loss": loss_d.item(), "g_loss": loss_g.item()}

    def fit(self, hooks: Collection[Hook] = (), checkpoint: Path | None = None) -> TrainState:
        """Train ``cfg.steps`` steps on the training core with its ``hooks`` (resumed from ``checkpoint`` if it
        exists)."""
        return train(self, self.state, self.cfg.steps, checkpoint=checkpoint, every=max(self.cfg.steps // 4, 1),
                     hooks=hooks, desc=self.variant)

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> np.ndarray:
        z = torch.randn(n, self.cfg.z_dim, generator=torch.Generator().manual_seed(seed))
        out = self.state.models["gen"](z)
        if self.norm is not None:
            out = self.norm.decode(out, seed=seed)
        return out.numpy().astype(np.float32)
