"""End to end: a tiny CSP overfits one image (targets -> loss -> Adam -> detect) and finds the person."""

import torch

from thoughtlab.csp.decode import box_iou, detect
from thoughtlab.csp.loss import csp_loss
from thoughtlab.csp.model import CSP
from thoughtlab.csp.targets import make_targets, stack_targets


def test_tiny_csp_overfits_one_person():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 0.2
    box = [24.0, 12.0, 24 + 0.41 * 40, 52.0]
    image[:, :, 12:52, 24:40] += 1.5
    targets = stack_targets([make_targets([box], (64, 64))])
    # head BN momentum 0.1 so that the running statistics catch up within 60 steps
    model = CSP("resnet18", width=0.125, head_bn_momentum=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = csp_loss(model(image), targets)
        optimizer.zero_grad()
        loss.total.backward()
        optimizer.step()
        losses.append(loss.total.item())
    assert losses[-1] < losses[0] / 20
    best = detect(model, image, score_threshold=0.05)[0]
    assert best.scores[0] > 0.5
    assert box_iou(best.boxes[:1], torch.tensor([box]), area_offset=0.0).item() > 0.7
