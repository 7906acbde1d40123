"""An adjacency-matrix GAN and a same-size autoregressive edge model (the non-adversarial control).

- GAN generator: draws the node count n from the training graphs' sizes (as the Erdős–Rényi baseline
  does; without it the generator removed edges everywhere to imitate the padding nodes and collapsed to
  empty graphs), then an MLP from (z, n) to the logits of the n(n−1)/2 upper-triangle edges of an n_max-node
  graph; edges are straight-through Gumbel-sigmoid draws (binary forward, σ((ℓ + logistic noise)/λ)
  backward; Maddison et al. 2017, Jang et al. 2017).  Unused nodes stay isolated and are dropped.
- Discriminator: permutation-invariant — message passing h ← MLP(h + D⁻¹A h) (GIN, Xu et al. 2019, with
  mean instead of sum aggregation, which kept training stable here) from node degree and triangle count,
  then a mean over nodes; relabelling the nodes cannot change it.
- Control: MADE (Germain et al. 2015), an autoregressive Bernoulli model over the same edge vector in
  BFS node order (GraphRNN's ordering), trained by maximum likelihood, hidden width chosen so that its
  parameter count matches the GAN generator's.  Like the GAN generator it is told the node count n (drawn
  from the training sizes; a one-hot of n feeds every hidden unit, a conditional MADE) and models only the
  edges among the first n nodes.  Without that it had to infer n from the padding and drew ≈1 node too
  many per graph, mostly pendant ones, which alone put its degree MMD above Erdős–Rényi's (pilot in the
  study docstring).
The edge vector lists node k's edges to nodes 0..k−1 for k = 1, 2, … (GraphRNN's node-by-node sequence;
:func:`edge_index`), so in BFS order each node's edges follow those of the nodes it can attach to.
Both train as recipes on :func:`thoughtlab.train.train` (checkpoint and bit-exact resume).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.train import Hook, TrainState, optimizer_step, train


def edge_index(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs (i, j), i < j, node by node: (0,1), (0,2), (1,2), (0,3), … (GraphRNN's adjacency sequence)."""
    i, j = torch.triu_indices(n, n, 1)
    order = torch.argsort(j * n + i)
    return i[order], j[order]


def to_matrix(edges: torch.Tensor, n: int) -> torch.Tensor:
    """Symmetric (B, n, n) adjacency from upper-triangle edge vectors (B, n(n−1)/2)."""
    i, j = edge_index(n)
    adj = edges.new_zeros(edges.shape[0], n, n)
    adj[:, i, j] = edges
    return adj + adj.transpose(1, 2)


class EdgeGenerator(nn.Module):
    """(n ~ training sizes, z) → edge logits → straight-through Gumbel-sigmoid edges among the first n nodes."""

    def __init__(self, n_max: int, sizes: torch.Tensor, z_dim: int = 16, hidden: int = 64):
        super().__init__()
        self.n_max, self.z_dim = n_max, z_dim
        self.register_buffer("sizes", sizes.long())
        pairs = n_max * (n_max - 1) // 2
        self.net = nn.Sequential(nn.Linear(z_dim + 1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, pairs))

    def forward(self, n: int, g: torch.Generator, tau: float = 1.0) -> torch.Tensor:
        nodes = self.sizes[torch.randint(0, len(self.sizes), (n,), generator=g)]
        z = torch.cat([torch.randn(n, self.z_dim, generator=g), nodes[:, None] / self.n_max], 1)
        logits = self.net(z)
        u = torch.rand(logits.shape, generator=g).clamp(1e-6, 1 - 1e-6)
        soft = torch.sigmoid((logits + torch.log(u) - torch.log1p(-u)) / tau)
        hard = (soft > 0.5).to(soft.dtype)
        alive = (torch.arange(self.n_max)[None, :] < nodes[:, None]).to(soft.dtype)
        return to_matrix(hard - soft.detach() + soft, self.n_max) * alive[:, :, None] * alive[:, None, :]


class InvariantDiscriminator(nn.Module):
    """Mean-pooled GIN-style network on dense adjacency; features: degree and triangles per node."""

    def __init__(self, hidden: int = 64, layers: int = 3):
        super().__init__()
        dims = [2] + [hidden] * layers
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, b)) for a, b in zip(dims, dims[1:]))
        self.out = nn.Linear(hidden, 1)

    def forward(self, adj: torch.Tensor) -> torch.Tensor:
        deg = adj.sum(-1)
        tri = torch.diagonal(adj @ adj @ adj, dim1=1, dim2=2) / 2
        h = torch.stack([deg / 10, tri / 30], -1)
        norm = deg.clamp_min(1).unsqueeze(-1)
        for mlp in self.mlps:
            h = F.relu(mlp(h + adj @ h / norm))
        return self.out(h.mean(1)).squeeze(-1)


class MaskedLinear(nn.Linear):
    def __init__(self, fan_in: int, fan_out: int, mask: torch.Tensor):
        super().__init__(fan_in, fan_out)
        self.register_buffer("mask", mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class EdgeMADE(nn.Module):
    """Conditional MADE over the edges of an ``n_max``-node graph given its node count n:
    p(e_d | e_<d, n) = σ(logit_d), one masked hidden layer plus an unmasked one-hot(n) input (Germain et al. 2015,
    eq. 11); edges that touch a node ≥ n are not modelled (always absent)."""

    def __init__(self, n_max: int, hidden: int, sizes: torch.Tensor, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        dim = n_max * (n_max - 1) // 2
        degrees_in = torch.arange(1, dim + 1)
        degrees_h = torch.randint(1, dim, (hidden,), generator=g)
        self.n_max, self.dim = n_max, dim
        self.register_buffer("sizes", sizes.long())
        self.register_buffer("later_node", edge_index(n_max)[1])
        self.hidden = MaskedLinear(dim, hidden, (degrees_h[:, None] >= degrees_in[None, :]).float())
        self.size_in = nn.Linear(n_max + 1, hidden, bias=False)
        self.output = MaskedLinear(hidden, dim, (degrees_in[:, None] > degrees_h[None, :]).float())

    def logits(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        return self.output(F.relu(self.hidden(x) + self.size_in(F.one_hot(n, self.n_max + 1).float())))

    def modelled(self, n: torch.Tensor) -> torch.Tensor:
        """(B, D) 1 where both ends of edge d are among the first n nodes."""
        return (self.later_node[None, :] < n[:, None]).float()

    def nll(self, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per graph (nats) of edge vectors ``x`` given node counts ``n``."""
        bits = F.binary_cross_entropy_with_logits(self.logits(x, n), x, reduction="none")
        return (bits * self.modelled(n)).sum(1).mean()

    @torch.no_grad()
    def sample(self, count: int, g: torch.Generator) -> torch.Tensor:
        """``count`` edge vectors, node counts drawn from the training sizes."""
        n = self.sizes[torch.randint(0, len(self.sizes), (count,), generator=g)]
        keep = self.modelled(n)
        x = torch.zeros(count, self.dim)
        for d in range(self.dim):
            p = torch.sigmoid(self.logits(x, n)[:, d])
            x[:, d] = (torch.rand(count, generator=g) < p).float() * keep[:, d]
        return x


def edge_vectors(adj: np.ndarray) -> torch.Tensor:
    """(B, D) edge vectors of padded adjacency matrices in :func:`edge_index` order."""
    i, j = edge_index(adj.shape[1])
    return torch.from_numpy(adj)[:, i, j]


def node_counts(adj: np.ndarray) -> torch.Tensor:
    """Each padded adjacency matrix's node count: 1 + the last node with an edge (padding comes last)."""
    has_edge = adj.sum(-1) > 0
    return torch.from_numpy(np.where(has_edge.any(-1), adj.shape[1] - np.argmax(has_edge[:, ::-1], -1), 0)).long()


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def made_hidden_matching(generator: EdgeGenerator) -> int:
    """MADE hidden width whose parameter count is closest to the generator's (2·D·h + h + (n_max + 1)·h + D)."""
    dim = generator.n_max * (generator.n_max - 1) // 2
    return max(1, round((parameter_count(generator) - dim) / (2 * dim + 1 + generator.n_max + 1)))


class AdjacencyGan:
    """Recipe: non-saturating GAN (Goodfellow et al. 2014) on adjacency matrices, one D then one G step per
    batch; every draw comes from ``state.generators["draw"]`` inside :meth:`step`, in the loop's order."""

    def __init__(self, adj: np.ndarray, batch: int, seed: int, tau: float):
        self.real, self.size, self.tau = torch.from_numpy(adj), batch, tau
        self.draw = torch.Generator().manual_seed(seed)

    def batch(self, step: int) -> int:
        return step

    def step(self, state: TrainState, _: int) -> dict[str, float]:
        gen, disc, g = state.models["gen"], state.models["disc"], self.draw
        real = self.real[torch.randint(0, len(self.real), (self.size,), generator=g)]
        fake = gen(self.size, g, self.tau)
        loss_d = F.softplus(-disc(real)).mean() + F.softplus(disc(fake.detach())).mean()
        optimizer_step(state.optimizers["disc"], loss_d)
        loss_g = F.softplus(-disc(gen(self.size, g, self.tau))).mean()
        optimizer_step(state.optimizers["gen"], loss_g)
        return {"d_loss": loss_d.item(), "g_loss": loss_g.item()}


class EdgeMle:
    """Recipe: maximum likelihood of the MADE on BFS-ordered edge vectors given their node counts, minibatches
    from a seeded generator."""

    def __init__(self, edges: torch.Tensor, sizes: torch.Tensor, batch: int, seed: int):
        self.edges, self.sizes, self.size = edges, sizes, batch
        self.draw = torch.Generator().manual_seed(seed)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        k = torch.randint(0, len(self.edges), (self.size,), generator=self.draw)
        return self.edges[k], self.sizes[k]

    def step(self, state: TrainState, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, float]:
        loss = state.models["made"].nll(*batch)
        optimizer_step(state.optimizers["made"], loss)
        return {"nll": loss.item()}


def train_gan(adj: np.ndarray, steps: int, batch: int, seed: int, lr: float = 1e-3, tau: float = 1.0,
              hooks: Collection[Hook] = (), checkpoint: Path | None = None) -> TrainState:
    """The adjacency GAN on the training core (models "gen"/"disc"), with the core's ``hooks``; resumed from
    ``checkpoint`` if it exists."""
    torch.manual_seed(seed)
    recipe = AdjacencyGan(adj, batch, seed, tau)
    gen, disc = EdgeGenerator(adj.shape[1], node_counts(adj)), InvariantDiscriminator()
    state = TrainState({"objective": "gan", "seed": seed, "lr": lr, "tau": tau, "batch": batch},
                       models={"gen": gen, "disc": disc},
                       optimizers={"gen": torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999)),
                                   "disc": torch.optim.Adam(disc.parameters(), lr=lr, betas=(0.5, 0.999))},
                       generators={"draw": recipe.draw})
    return train(recipe, state, steps, checkpoint=checkpoint, every=max(steps // 4, 1),
                 hooks=hooks, desc="graph gan")


def train_made(adj: np.ndarray, hidden: int, steps: int, batch: int, seed: int, lr: float = 1e-3,
               hooks: Collection[Hook] = (), checkpoint: Path | None = None) -> TrainState:
    """The MADE control by maximum likelihood on the training core (model "made"), hooks and resume as :func:`train_gan`."""
    torch.manual_seed(seed)
    recipe = EdgeMle(edge_vectors(adj), node_counts(adj), batch, seed)
    model = EdgeMADE(adj.shape[1], hidden, recipe.sizes, seed)
    state = TrainState({"objective": "made", "seed": seed, "lr": lr, "batch": batch, "hidden": hidden},
                       models={"made": model}, optimizers={"made": torch.optim.Adam(model.parameters(), lr=lr)},
                       generators={"draw": recipe.draw})
    return train(recipe, state, steps, checkpoint=checkpoint, every=max(steps // 4, 1),
                 hooks=hooks, desc="graph made")


@torch.no_grad()
def sample_gan(gen: EdgeGenerator, n: int, seed: int) -> np.ndarray:
    adj = gen(n, torch.Generator().manual_seed(seed))
    return (adj > 0.5).numpy().astype(np.float32)


def sample_made(model: EdgeMADE, n: int, seed: int) -> np.ndarray:
    return to_matrix(model.sample(n, torch.Generator().manual_seed(seed)), model.n_max).numpy()
