"""Per-layer probes for any ``nn.Module``: dead units, effective rank, gradient norms.

A :class:`Probe` hooks chosen layers of a model (by default every ReLU-like
activation module) and measures, on an evaluation set, for each layer:

- **dead-unit fraction** — a unit is *dead* if it is off for every input of the
  evaluation set (research notes A3, "Metric definitions"; Lu et al. 2020,
  "Dying ReLU and Initialization", arXiv 1903.06733).  "Off" means the layer's
  output is ``<= 0``: exactly 0 after a ReLU, a non-positive pre-activation if
  you hook the linear layer before it.  For outputs with spatial axes
  ``(N, C, *spatial)`` a unit is a **channel**, dead if it is off at every
  position for every input (a channel shares its weights over positions, so
  it is the unit that can die as a whole).
- **effective rank** of the activations — ``exp(H(p))`` with ``p_i = s_i / sum(s)``
  the normalised singular values of the centred activation matrix (Roy &
  Vetterli 2007, "The effective rank: a measure of effective dimensionality",
  EUSIPCO, Def. 1).  Rows are inputs (times positions for conv outputs),
  columns are units; it is between 1 and the number of units, and 0 for an
  all-constant layer.
- **gradient norm** ``||dL/da||`` — the Frobenius norm of the gradient of the
  mean loss with respect to the layer's output on the evaluation set (only
  when targets are given).  It does not touch the parameters' ``.grad``.

:func:`weight_grad_norms` reads ``||dL/dW||`` of every linear/conv layer after
your own ``backward()`` (e.g. inside a training loop's step callback).

Example, on your own model::

    import torch, torch.nn as nn
    from thoughtlab.probe import Probe

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    with Probe(model) as probe:            # hooks every nn.ReLU; Probe(model, ["2"]) names one
        stats = probe.measure(x, y)         # {"2": LayerStats(dead_fraction=..., ...)}
    print(stats["2"].dead_fraction, stats["2"].effective_rank, stats["2"].grad_norm)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from thoughtlab.errors import BadInput, UnknownName, UserError

RELU_LIKE: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6)
WEIGHT_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass(frozen=True)
class LayerStats:
    """What a :class:`Probe` measured at one layer on one evaluation set.

    Attributes:
        dead_fraction: share of units off (``<= 0``) for every input.
        effective_rank: Roy & Vetterli effective rank of the centred activations.
        units: number of units (features, or channels for spatial outputs).
        grad_norm: ``||dL/da||`` of the mean loss w.r.t. the layer output, or
            ``None`` when :meth:`Probe.measure` got no targets.
    """

    dead_fraction: float
    effective_rank: float
    units: int
    grad_norm: float | None = None


def effective_rank(activations: torch.Tensor) -> float:
    """Effective rank (Roy & Vetterli 2007, Def. 1) of a (rows, units) matrix, centred by column.

    ``exp(-sum p_i log p_i)`` with ``p_i = s_i / sum_j s_j`` over the singular
    values ``s`` of the centred matrix; 0.0 when the centred matrix is zero.
    """
    if activations.ndim != 2:
        raise BadInput(f"effective_rank needs a 2-D (rows, units) matrix, got shape {tuple(activations.shape)}")
    a = activations.double()
    singular = torch.linalg.svdvals(a - a.mean(dim=0, keepdim=True))
    return _entropy_rank(singular)


def _entropy_rank(singular: torch.Tensor) -> float:
    """exp of the Shannon entropy of the normalised singular values (0 when all vanish)."""
    total = singular.sum()
    if total <= 0:
        return 0.0
    p = singular / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def weight_grad_norms(model: nn.Module) -> dict[str, float]:
    """``||dL/dW||`` (Frobenius) of every linear/conv weight, keyed by module name.

    Read after ``loss.backward()``; layers without a gradient yet give 0.0.
    """
    norms = {}
    for name, module in model.named_modules():
        if isinstance(module, WEIGHT_LAYERS):
            grad = module.weight.grad
            norms[name] = 0.0 if grad is None else float(grad.detach().norm())
    return norms


class _Accumulator:
    """Streams one layer's outputs: which units were ever on, and the scatter matrix."""

    def __init__(self) -> None:
        self.ever_on: torch.Tensor | None = None
        self.count = 0
        self.total: torch.Tensor | None = None
        self.gram: torch.Tensor | None = None

    def add(self, output: torch.Tensor) -> None:
        rows = _as_rows(output.detach()).double()
        on = (rows > 0).any(dim=0)
        if self.ever_on is None:
            self.ever_on, self.total, self.gram = on, rows.sum(0), rows.T @ rows
        else:
            if on.shape != self.ever_on.shape:
                raise BadInput("a hooked layer changed its number of units between batches; probe one input shape at a time")
            self.ever_on |= on
            self.total += rows.sum(0)
            self.gram += rows.T @ rows
        self.count += rows.shape[0]

    def stats(self, grad_norm: float | None) -> LayerStats:
        mean = self.total / self.count
        scatter = self.gram - self.count * torch.outer(mean, mean)
        singular = torch.linalg.eigvalsh(scatter).clamp(min=0).sqrt()
        units = int(self.ever_on.numel())
        dead = 1.0 - float(self.ever_on.double().mean())
        return LayerStats(dead, _entropy_rank(singular), units, grad_norm)


def _as_rows(output: torch.Tensor) -> torch.Tensor:
    """(N, C) stays; (N, C, *spatial) becomes (N * positions, C): one column per channel."""
    if output.ndim < 2:
        raise BadInput(f"a hooked layer gave output of shape {tuple(output.shape)}; hook layers with a batch and a unit axis")
    if output.ndim == 2:
        return output
    return output.movedim(1, -1).reshape(-1, output.shape[1])


class Probe:
    """Hooks layers of ``model`` and measures them with :meth:`measure`.

    Use it as a context manager: hooks are attached on entry and removed on
    exit.  Hooks only record inside :meth:`measure`, so training steps run
    inside the ``with`` block cost nothing extra.  A module called several
    times per forward (a shared ``nn.ReLU``) reports each call separately,
    as ``name``, ``name#2``, ``name#3``...

    Args:
        model: any ``nn.Module``.
        layers: ``None`` for every ``nn.ReLU``/``nn.ReLU6`` module, or a list
            of module names (as in ``model.named_modules()``) and/or module
            types to hook.
    """

    def __init__(self, model: nn.Module, layers: Sequence[str | type[nn.Module]] | None = None):
        self.model = model
        self.names = _resolve_layers(model, RELU_LIKE if layers is None else tuple(layers))
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._entered = False
        self._recording = False
        self._calls: dict[str, int] = {}
        self._accumulators: dict[str, _Accumulator] = {}
        self._outputs: dict[str, torch.Tensor] = {}
        self._keep_outputs = False

    def __enter__(self) -> "Probe":
        modules = dict(self.model.named_modules())
        self._handles = [modules[name].register_forward_hook(self._hook_for(name)) for name in self.names]
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles, self._entered = [], False

    def _hook_for(self, name: str) -> Callable[[nn.Module, object, object], None]:
        def hook(module: nn.Module, inputs: object, output: object) -> None:
            if not self._recording:
                return
            if not isinstance(output, torch.Tensor):
                raise BadInput(f"layer {name!r} returns {type(output).__name__}, not a tensor; hook a layer that returns one")
            self._calls[name] = self._calls.get(name, 0) + 1
            key = name if self._calls[name] == 1 else f"{name}#{self._calls[name]}"
            self._accumulators.setdefault(key, _Accumulator()).add(output)
            if self._keep_outputs:
                self._outputs[key] = output

        return hook

    def measure(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
        batch_size: int | None = None,
    ) -> dict[str, LayerStats]:
        """Per-layer statistics of the model on inputs ``x`` (in eval mode, mode restored).

        Args:
            x: the evaluation set, batch first.
            y: targets; when given, each layer's ``grad_norm`` is ``||dL/da||``
                for ``L = loss_fn(model(x), y)`` (``loss_fn`` must average
                over the batch).  Parameter ``.grad`` is left untouched.
            loss_fn: the loss for the gradient norms.
            batch_size: split ``x`` into batches of this size (``None``: one batch).
        Returns:
            ``{layer name: LayerStats}`` in the order the layers ran.
        """
        if not self._entered:
            raise UserError("Probe.measure called outside its context; use `with Probe(model) as probe: probe.measure(x)`")
        if y is not None and len(y) != len(x):
            raise BadInput(f"x has {len(x)} inputs but y has {len(y)} targets; pass one target per input")
        was_training = self.model.training
        self.model.eval()
        self._accumulators, self._recording = {}, True
        grad_squares: dict[str, float] = {}
        try:
            for xb, yb in _batches(x, y, batch_size or len(x)):
                self._run_batch(xb, yb, loss_fn, grad_squares, weight=len(xb) / len(x))
        finally:
            self._recording, self._keep_outputs, self._outputs = False, False, {}
            self.model.train(was_training)
        if not self._accumulators:
            raise UserError("no hooked layer ran during measure; pass layers=[names or types] of modules the forward calls")
        return {
            key: acc.stats(math.sqrt(grad_squares[key]) if y is not None else None)
            for key, acc in self._accumulators.items()
        }

    def _run_batch(
        self,
        xb: torch.Tensor,
        yb: torch.Tensor | None,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        grad_squares: dict[str, float],
        weight: float,
    ) -> None:
        """Forward one batch; with targets, add (weight * ||dL_b/da||)^2 per layer."""
        self._calls = {}
        if yb is None:
            with torch.no_grad():
                self.model(xb)
            return
        self._keep_outputs = True
        with torch.enable_grad():
            loss = loss_fn(self.model(xb.detach().requires_grad_(True)), yb)
            keys = list(self._outputs)
            grads = torch.autograd.grad(loss, [self._outputs[k] for k in keys], allow_unused=True)
        self._outputs = {}
        for key, grad in zip(keys, grads):
            norm = 0.0 if grad is None else float(grad.norm()) * weight
            grad_squares[key] = grad_squares.get(key, 0.0) + norm**2


def _batches(x: torch.Tensor, y: torch.Tensor | None, size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    for start in range(0, len(x), size):
        yield x[start : start + size], None if y is None else y[start : start + size]


def _resolve_layers(model: nn.Module, layers: tuple[str | type[nn.Module], ...]) -> list[str]:
    """Module names to hook, in ``named_modules`` order; UnknownName for a name not in the model."""
    modules = dict(model.named_modules())
    if any(not isinstance(layer, (str, type)) for layer in layers):
        raise BadInput("layers must be module names (str) or module types (e.g. nn.ReLU); fix the list")
    names = {layer for layer in layers if isinstance(layer, str)}
    types = tuple(layer for layer in layers if isinstance(layer, type))
    for name in names:
        if name not in modules:
            raise UnknownName("layer", name, [n for n in modules if n])
    return [n for n, m in modules.items() if n in names or (types and isinstance(m, types))]
