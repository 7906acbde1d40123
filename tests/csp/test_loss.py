"""CSP loss on small hand-computed cases."""

import math

import pytest
import torch

from thoughtlab.csp.loss import csp_loss
from thoughtlab.csp.model import CSPOutput
from thoughtlab.csp.targets import CSPTargets
from thoughtlab.errors import BadInput


def sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def small_case(positive: bool = True):
    """A 1-image 2x2 case: Gaussian, valid and positive maps; a 2-cell scale mask; one offset cell."""
    center = torch.tensor([[[1.0, 0.5], [0.0, 0.0]],                            # M
                           [[1.0, 1.0], [1.0, 0.0]],                            # valid (cell (1,1) ignored)
                           [[1.0 if positive else 0.0, 0.0], [0.0, 0.0]]])[None]  # positives
    t = math.log(4)
    scale = torch.tensor([[[t, t], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]]])[None]
    offset = torch.zeros(1, 3, 2, 2)
    offset[0, :, 0, 0] = torch.tensor([0.2, -0.3, 1.0])
    targets = CSPTargets(center, scale, offset)
    outputs = CSPOutput(center=torch.tensor([[[[0.0, 1.0], [-1.0, 2.0]]]], requires_grad=True),
                        scale=torch.tensor([[[[1.5 * t, -1.0 * t], [5.0, 5.0]]]], requires_grad=True),
                        offset=torch.tensor([[[[0.7, 9.0], [9.0, 9.0]], [[1.7, 9.0], [9.0, 9.0]]]]))
    return outputs, targets


def expected_negatives() -> float:
    cell01 = (1 - 0.5) ** 4 * sig(1.0) ** 2 * math.log(1 + math.e)      # BCE of y=0 at logit 1
    cell10 = (1 - 0.0) ** 4 * sig(-1.0) ** 2 * math.log(1 + math.exp(-1))
    return cell01 + cell10


def test_hand_computed_small_case():
    outputs, targets = small_case()
    loss = csp_loss(outputs, targets)
    center = (1 - 0.5) ** 2 * math.log(2) + expected_negatives()         # K = 1
    scale = (0.5 * 0.5**2 + (2.0 - 0.5)) / 2                             # relative errors 0.5 and -2, 2 mask cells
    offset = 0.5 * 0.5**2 + (2.0 - 0.5)                                  # diffs 0.5 and 2.0 at the one cell
    assert loss.center.item() == pytest.approx(center, rel=1e-6)
    assert loss.scale.item() == pytest.approx(scale, rel=1e-6)
    assert loss.offset.item() == pytest.approx(offset, rel=1e-6)
    assert loss.total.item() == pytest.approx(0.01 * center + scale + 0.1 * offset, rel=1e-6)


def test_no_positives_divides_by_one_and_regressions_vanish():
    outputs, targets = small_case(positive=False)
    targets = CSPTargets(targets.center, torch.zeros_like(targets.scale), torch.zeros_like(targets.offset))
    cell00 = sig(0.0) ** 2 * math.log(2) * (1 - 1.0) ** 4                # a negative cell with M = 1 weighs 0
    loss = csp_loss(outputs, targets)
    assert loss.center.item() == pytest.approx(cell00 + expected_negatives(), rel=1e-6)
    assert loss.scale.item() == 0 and loss.offset.item() == 0
    loss.total.backward()
    assert torch.isfinite(outputs.center.grad).all() and torch.all(outputs.scale.grad == 0)


def test_k_counts_positives_over_the_whole_batch():
    outputs, targets = small_case()
    double_out = CSPOutput(*(torch.cat([o.detach()] * 2) for o in outputs))
    double_tgt = CSPTargets(*(torch.cat([t] * 2) for t in targets))
    single, double = csp_loss(outputs, targets), csp_loss(double_out, double_tgt)
    for a, b in zip(single, double):
        assert b.item() == pytest.approx(a.item(), rel=1e-6)  # sums double, K doubles


def test_ignored_cells_do_not_contribute():
    outputs, targets = small_case()
    changed = CSPOutput(outputs.center.detach().clone(), outputs.scale, outputs.offset)
    changed.center[0, 0, 1, 1] = 30.0  # the ignore cell
    assert csp_loss(changed, targets).center.item() == pytest.approx(csp_loss(outputs, targets).center.item())


def test_shape_mismatch():
    outputs, targets = small_case()
    with pytest.raises(BadInput, match="center"):
        csp_loss(outputs, CSPTargets(targets.center[:, :2], targets.scale, targets.offset))
    with pytest.raises(BadInput, match="offset"):
        csp_loss(CSPOutput(outputs.center, outputs.scale, torch.zeros(1, 2, 3, 3)), targets)
    with pytest.raises(BadInput, match="stack_targets"):
        csp_loss(outputs, CSPTargets(targets.center[0], targets.scale, targets.offset))


def test_scale_loss_forms_relative_and_log():
    from thoughtlab.csp.loss import scale_loss

    target = torch.zeros(1, 2, 2, 2)
    target[0, 0, 0, 0], target[0, 1, 0, 0] = 4.0, 1.0    # one scale cell, log-height target 4
    pred = torch.zeros(1, 1, 2, 2)
    pred[0, 0, 0, 0] = 4.4                               # error 0.4: relative 0.1 (quadratic zone), log 0.4
    assert float(scale_loss(pred, target)) == pytest.approx(0.5 * 0.1 ** 2)
    assert float(scale_loss(pred, target, "log")) == pytest.approx(0.5 * 0.4 ** 2)
    pred[0, 0, 1, 1] = 100.0                             # outside the mask: ignored by both
    assert float(scale_loss(pred, target, "log")) == pytest.approx(0.5 * 0.4 ** 2)
