"""Procedurally drawn articulated people for the synthetic pedestrian scenes.

A person is a 2-D stick figure with volume: head (ellipse), neck, torso (quadrilateral), upper/lower arms
and legs (thick segments with round caps), hands and feet, in clothing colours. Poses vary by view (front or
side), walking stride, arm swing, arm abduction and crouching.

The ground truth follows the CityPersons convention (Zhang, Benenson & Schiele, CVPR 2017, annotation
protocol): a full-body box of fixed aspect ratio (width = 0.41 x height by default) centred on the person. Here the figure is *fitted* to
that box: the pose opens (arms out, wider stride) until its natural width is near ``aspect x height``, then
joint x-positions are scaled so the rasterised mask spans the box width; the box itself is measured from the
drawn mask (rows top..bottom, columns centre), so it is exact by construction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

# Body proportions in units of a standing height of ~1 (roughly 7.5 heads).
HEAD_R = 0.062
NECK_LEN = 0.03
TORSO_LEN = 0.30
SHOULDER_HALF = 0.085
HIP_HALF = 0.055
UPPER_ARM, FOREARM = 0.16, 0.15
THIGH, SHIN = 0.245, 0.245
ARM_T, THIGH_T, SHIN_T = 0.045, 0.065, 0.05   # thicknesses (diameters)
HAND_R, FOOT_LEN, FOOT_T = 0.022, 0.055, 0.03

SKIN = ((255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (96, 60, 30))
HAIR = ((20, 15, 10), (60, 40, 20), (110, 75, 40), (200, 170, 110), (130, 130, 130), (160, 60, 30))
TROUSERS = ((40, 50, 90), (30, 30, 35), (90, 90, 95), (150, 130, 95), (70, 60, 50), (110, 30, 40))


@dataclass(frozen=True)
class Pose:
    """Joint angles in radians from the downward vertical (positive = towards +x) and view/crouch parameters."""

    side_view: bool
    facing: int          # +1 right, -1 left (side view: where the feet and crouch point)
    stride: float        # half-angle between the thighs when walking
    arm_swing: float     # arm angle opposite to the legs
    arm_out: float       # abduction of both arms (front view) / forward reach (side view)
    crouch: float        # 0 standing .. 1 deep squat


@dataclass(frozen=True)
class Sprite:
    """An RGBA patch: ``rgb`` (h, w, 3) uint8 and ``mask`` (h, w) bool of the drawn pixels."""

    rgb: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class PersonSprite:
    """A drawn person: the sprite cropped to its mask, with the CityPersons-style full box relative to the crop.

    ``box`` is (x, y, w, h) in crop coordinates: y/h are the mask's first row and row extent, the box is
    centred on the mask's column extent and w = aspect * h.
    """

    sprite: Sprite
    box: tuple[float, float, float, float]


def sample_pose(rng: np.random.Generator, side_view_probability: float, crouch_probability: float) -> Pose:
    """Draw a walking/standing pose; with ``crouch_probability`` a crouching one."""
    side = bool(rng.random() < side_view_probability)
    crouch = float(rng.uniform(0.4, 1.0)) if rng.random() < crouch_probability else 0.0
    stride = float(rng.uniform(0.0, 0.45 if side else 0.12))
    return Pose(side_view=side, facing=1 if rng.random() < 0.5 else -1, stride=stride,
                arm_swing=float(rng.uniform(0.0, 0.5)) if side else 0.0,
                arm_out=float(rng.uniform(0.05, 0.3)), crouch=crouch)


def _segments(pose: Pose, openness: float) -> dict[str, list]:
    """Body parts in body units (y down, head top near 0): capsules, the torso polygon and circles."""
    f = pose.facing
    width_factor = 0.55 if pose.side_view else 1.0
    sh, hp = SHOULDER_HALF * width_factor, HIP_HALF * width_factor
    neck_y = 2 * HEAD_R
    sh_y = neck_y + NECK_LEN
    hip_y = sh_y + TORSO_LEN
    stride = pose.stride + openness * 0.35
    crouch_lift = pose.crouch * 1.3
    legs, arms = [], []
    for side in (-1, 1):
        if pose.side_view:
            thigh = f * (side * stride + crouch_lift)
            shin = thigh - f * pose.crouch * 2.4 + (f * 0.15 if side * f < 0 else 0.0)
            arm = -side * pose.arm_swing + f * (pose.arm_out + openness * 1.0 + pose.crouch * 0.8)
            fore = arm + f * (0.2 + pose.crouch * 0.6)
        else:
            thigh = side * (stride + pose.crouch * 0.5)
            shin = thigh - side * pose.crouch * 1.0
            arm = side * (pose.arm_out + openness * 1.2)
            fore = arm + side * 0.1 * (1 - openness)
        hip = (side * hp, hip_y)
        knee = (hip[0] + THIGH * math.sin(thigh), hip[1] + THIGH * math.cos(thigh))
        ankle = (knee[0] + SHIN * math.sin(shin), knee[1] + SHIN * math.cos(shin))
        toe = (ankle[0] + (f * FOOT_LEN if pose.side_view else side * FOOT_LEN * 0.3), ankle[1])
        shoulder = (side * sh, sh_y + ARM_T / 2)
        elbow = (shoulder[0] + UPPER_ARM * math.sin(arm), shoulder[1] + UPPER_ARM * math.cos(arm))
        wrist = (elbow[0] + FOREARM * math.sin(fore), elbow[1] + FOREARM * math.cos(fore))
        legs.append([(hip, knee, THIGH_T), (knee, ankle, SHIN_T), (ankle, toe, FOOT_T)])
        arms.append([(shoulder, elbow, ARM_T), (elbow, wrist, ARM_T * 0.85), (wrist, wrist, 2 * HAND_R)])
    torso = [(-sh, sh_y), (sh, sh_y), (hp * 1.1, hip_y + 0.02), (-hp * 1.1, hip_y + 0.02)]
    parts = {"legs": legs, "arms": arms, "torso": torso, "neck": [((0, neck_y), (0, sh_y), 0.045)],
             "head": (0.0, HEAD_R)}
    return parts


def _points(parts: dict) -> np.ndarray:
    """(4, n) array of x, y, x-radius, y-radius of every extreme point of the figure (body units)."""
    rows = []
    for a, b, t in [c for limb in parts["legs"] + parts["arms"] for c in limb] + parts["neck"]:
        rows += [(a[0], a[1], t / 2, t / 2), (b[0], b[1], t / 2, t / 2)]
    rows += [(q[0], q[1], 0.0, 0.0) for q in parts["torso"]]
    rows.append((parts["head"][0], parts["head"][1], HEAD_R * 0.85, HEAD_R))
    return np.array(rows, dtype=np.float64).T


def _extent(points: np.ndarray, x_scale: float) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the figure when joint x-positions are multiplied by ``x_scale``."""
    x, y, rx, ry = points
    return (float((x_scale * x - rx).min()), float((y - ry).min()),
            float((x_scale * x + rx).max()), float((y + ry).max()))


def _aspect(points: np.ndarray, x_scale: float) -> float:
    x0, y0, x1, y1 = _extent(points, x_scale)
    return (x1 - x0) / (y1 - y0)


def fit_pose(pose: Pose, aspect: float) -> tuple[dict, float]:
    """Parts and x-scale that make the figure's width/height equal ``aspect``.

    First the pose opens (bisection on the openness), then the x-scale is solved exactly: the width
    max_ij [s (x_i - x_j) + r_i + r_j] is a maximum of lines in s, so the smallest s reaching the target is
    the smallest root among the lines with positive slope.
    """
    lo, hi = 0.0, 1.0
    if _aspect(_points(_segments(pose, 0.0)), 1.0) < aspect:
        for _ in range(5):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if _aspect(_points(_segments(pose, mid)), 1.0) < aspect else (lo, mid)
    parts = _segments(pose, lo)
    x, y, rx, ry = _points(parts)
    target = aspect * float((y + ry).max() - (y - ry).min())
    slope = x[:, None] - x[None, :]
    offset = rx[:, None] + rx[None, :]
    if offset.max() >= target:
        return parts, 0.0
    rising = slope > 0
    return parts, float(((target - offset[rising]) / slope[rising]).min())


def _palette(rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    shirt = tuple(int(c) for c in rng.integers(20, 236, size=3))
    pick = lambda table: table[int(rng.integers(len(table)))]
    return {"skin": pick(SKIN), "hair": pick(HAIR), "shirt": shirt, "trousers": pick(TROUSERS),
            "shoes": tuple(int(c) for c in rng.integers(10, 70, size=3))}


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int, int]:
    return tuple(int(min(255, c * factor)) for c in colour) + (255,)


def _capsule(draw: ImageDraw.ImageDraw, a, b, thickness: float, fill) -> None:
    width = max(1, round(thickness))
    r = (width - 1) / 2
    if a != b:
        draw.line([a, b], fill=fill, width=width)
    for q in (a, b):
        draw.ellipse([q[0] - r, q[1] - r, q[0] + r, q[1] + r], fill=fill)


def render_person(rng: np.random.Generator, height: float, aspect: float, pose: Pose) -> PersonSprite:
    """Draw one person whose full-body box is ``height`` px tall and ``aspect * height`` wide (±1-2 px)."""
    parts, x_scale = fit_pose(pose, aspect)
    x0, y0, x1, y1 = _extent(_points(parts), x_scale)
    scale = height / (y1 - y0)
    margin = 4
    w_px = math.ceil((x1 - x0) * scale) + 2 * margin
    h_px = math.ceil(height) + 2 * margin

    def px(q):
        return ((q[0] * x_scale - x0) * scale + margin, (q[1] - y0) * scale + margin)

    colours = _palette(rng)
    canvas = Image.new("RGBA", (w_px, h_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    back = 0 if pose.facing > 0 else 1   # side view: the limb on the far side is drawn first, darker
    order = (back, 1 - back)
    for i in order:
        shade = 0.75 if pose.side_view and i == back else 1.0
        for k, (a, b, t) in enumerate(parts["legs"][i]):
            fill = _shade(colours["shoes"] if k == 2 else colours["trousers"], shade)
            _capsule(draw, px(a), px(b), t * scale, fill)
        if pose.side_view and i == back:
            _draw_arm(draw, parts["arms"][i], px, scale, colours, shade)
    draw.polygon([px(q) for q in parts["torso"]], fill=_shade(colours["shirt"], 1.0))
    for a, b, t in parts["neck"]:
        _capsule(draw, px(a), px(b), t * scale, _shade(colours["skin"], 0.9))
    for i in order:
        if not (pose.side_view and i == back):
            _draw_arm(draw, parts["arms"][i], px, scale, colours, 0.9 if i == 0 else 1.0)
    hx, hy = px(parts["head"])
    rx, ry = max(HEAD_R * 0.85 * scale - 0.5, 0.0), max(HEAD_R * scale - 0.5, 0.0)
    draw.ellipse([hx - rx, hy - ry, hx + rx, hy + ry], fill=_shade(colours["skin"], 1.0))
    draw.chord([hx - rx, hy - ry, hx + rx, hy + ry * 0.2], 180, 360, fill=_shade(colours["hair"], 1.0))
    return _crop(np.asarray(canvas), aspect)


def _draw_arm(draw, arm, px, scale, colours, shade) -> None:
    for k, (a, b, t) in enumerate(arm):
        fill = _shade(colours["skin"] if k == 2 else colours["shirt"], shade * (0.92 if k == 1 else 1.0))
        _capsule(draw, px(a), px(b), t * scale, fill)


def _crop(rgba: np.ndarray, aspect: float) -> PersonSprite:
    """Crop to the drawn mask and measure the full box from it (exact ground truth)."""
    mask = rgba[..., 3] > 0
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    mask = mask[r0:r1, c0:c1]
    rgb = np.ascontiguousarray(rgba[r0:r1, c0:c1, :3])
    h = float(r1 - r0)
    w = aspect * h
    cx = (c1 - c0) / 2.0
    return PersonSprite(Sprite(rgb, mask), (cx - w / 2, 0.0, w, h))
