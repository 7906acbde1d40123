"""Synthetic street scenes: textured background, person-like distractors, people, crowds, groups, occluders.

Every object is a sprite (colour patch + boolean mask) pasted back to front by depth (the foot row on a
ground plane below a random horizon). A label map records which object owns each pixel, so a person's
visibility is the unoccluded share of its mask, counted after every occluder is drawn; nothing is guessed.

Annotations follow CityPersons (Zhang et al., CVPR 2017): full box of fixed aspect (0.41), visible box,
visibility ratio, and ignore boxes for dense groups of people ("person group", label 5, which the
evaluator treats as ignore regions; Sec. 3.3 of the research notes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from thoughtlab.csp.synth_people import PersonSprite, Sprite, render_person, sample_pose
from thoughtlab.errors import BadInput, UnknownName

BASE_HEIGHT = 480  # image height that the presets' pixel sizes refer to


@dataclass(frozen=True)
class SceneConfig:
    """Parameters of one scene distribution. Pixel sizes refer to ``height``; see :meth:`resized`."""

    width: int = 640
    height: int = 480
    person_height: tuple[float, float] = (20.0, 300.0)   # full-box height range, log-uniform
    aspect: tuple[float, float] = (0.41, 0.41)           # full-box width / height, uniform
    people: tuple[int, int] = (1, 7)                     # individual people per image (inclusive)
    empty_fraction: float = 0.1                          # images with no person at all
    crowd_probability: float = 0.4                       # one small crowd of 2-4 overlapping people
    group_probability: float = 0.3                       # one dense group, annotated as one ignore box
    group_size: tuple[int, int] = (6, 12)
    occlusion_probability: float = 0.35                  # per person: an object in front of it
    distractors: tuple[int, int] = (2, 8)                # poles, signs, bollards, bins, trunks
    side_view_probability: float = 0.5
    crouch_probability: float = 0.0
    min_visibility: float = 0.1                          # less visible people are ignore boxes
    pixel_noise: int = 4

    def resized(self, width: int, height: int) -> SceneConfig:
        """The same distribution at another image size: person heights scale with the image height.

        Heights are kept at >= 6 px (smaller figures cannot be drawn with a head, arms and legs).
        """
        k = height / self.height
        lo = max(self.person_height[0] * k, 6.0)
        return replace(self, width=width, height=height, person_height=(lo, max(self.person_height[1] * k, lo)))

    def validate(self) -> SceneConfig:
        lo, hi = self.person_height
        if self.width < 32 or self.height < 32:
            raise BadInput(f"scene size {self.width}x{self.height} is too small; use at least 32x32")
        if not 4 <= lo <= hi:
            raise BadInput(f"person_height {self.person_height} must satisfy 4 <= low <= high")
        if not 0.1 <= self.aspect[0] <= self.aspect[1] <= 1.5:
            raise BadInput(f"aspect {self.aspect} must satisfy 0.1 <= low <= high <= 1.5")
        if not 0 <= self.people[0] <= self.people[1]:
            raise BadInput(f"people {self.people} must satisfy 0 <= low <= high")
        return self


PRESETS: dict[str, SceneConfig] = {
    "default": SceneConfig(),
    # Shifted scale/aspect distribution for the anchor-shift claim: people about twice as tall (median
    # ~155 px instead of ~77 px at 480 rows), wider poses (arms out, strides, crouching) and full boxes of
    # aspect 0.45-0.70 instead of the fixed 0.41.
    "shifted": SceneConfig(person_height=(60.0, 400.0), aspect=(0.45, 0.70), crouch_probability=0.4,
                           side_view_probability=0.6),
}


def preset(name: str, width: int | None = None, height: int | None = None) -> SceneConfig:
    """A named scene distribution, optionally at another image size (pixel sizes scale with it)."""
    if name not in PRESETS:
        raise UnknownName("scene preset", name, list(PRESETS))
    config = PRESETS[name]
    if width is not None or height is not None:
        config = config.resized(width or config.width, height or config.height)
    return config.validate()


@dataclass
class Annotation:
    """One labelled object: full ``box`` and visible ``vis_box`` as (x, y, w, h), ``visibility`` in [0, 1].

    ``kind`` is "person" (``ignore`` False unless less than ``min_visibility`` is visible) or "group"
    (a dense group: an ignore region with vis_box (0, 0, 0, 0), as CityPersons writes groups).
    """

    box: tuple[float, float, float, float]
    vis_box: tuple[float, float, float, float]
    visibility: float
    ignore: bool
    kind: str = "person"


@dataclass
class Scene:
    """A rendered scene: image, annotations, the owner label map and each annotation's full mask."""

    image: np.ndarray
    annotations: list[Annotation]
    labels: np.ndarray                  # (H, W) int32 owner per pixel: 0 background, -1 objects, > 0 people
    owners: list[int] = field(default_factory=list)                        # label value of each annotation
    masks: list[tuple[int, int, np.ndarray]] = field(default_factory=list)  # (x0, y0, full mask) per annotation


class Canvas:
    """Back-to-front compositor that keeps, per pixel, which object is on top."""

    def __init__(self, background: np.ndarray):
        self.image = background
        self.labels = np.zeros(background.shape[:2], np.int32)

    def paste(self, sprite: Sprite, x0: int, y0: int, owner: int) -> None:
        """Draw ``sprite`` with its top-left at (x0, y0), clipped to the image; ``owner`` -1 = not a person."""
        H, W = self.labels.shape
        h, w = sprite.mask.shape
        ax, ay, bx, by = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
        if ax >= bx or ay >= by:
            return
        m = sprite.mask[ay - y0:by - y0, ax - x0:bx - x0]
        self.image[ay:by, ax:bx][m] = sprite.rgb[ay - y0:by - y0, ax - x0:bx - x0][m]
        self.labels[ay:by, ax:bx][m] = owner


def visibility_from_labels(labels: np.ndarray, owner: int, x0: int, y0: int, mask: np.ndarray
                           ) -> tuple[float, tuple[float, float, float, float]]:
    """Unoccluded share of ``mask`` (placed at x0, y0) and the tight box of its visible pixels."""
    h, w = mask.shape
    visible = (labels[y0:y0 + h, x0:x0 + w] == owner) & mask
    count = int(visible.sum())
    if count == 0:
        return 0.0, (0.0, 0.0, 0.0, 0.0)
    rows, cols = np.flatnonzero(visible.any(axis=1)), np.flatnonzero(visible.any(axis=0))
    box = (float(x0 + cols[0]), float(y0 + rows[0]), float(cols[-1] + 1 - cols[0]), float(rows[-1] + 1 - rows[0]))
    return count / int(mask.sum()), box


# ---------------------------------------------------------------- background and objects


def _value_noise(rng: np.random.Generator, h: int, w: int, cell: int, amplitude: int) -> Image.Image:
    """Smooth random texture: an 'L' image centred on 128, +-amplitude, bilinear up-sampling of a coarse grid."""
    small = rng.integers(128 - amplitude, 128 + amplitude + 1, size=(h // cell + 2, w // cell + 2), dtype=np.uint8)
    return Image.fromarray(small).resize((w, h), Image.BILINEAR)


def _background(rng: np.random.Generator, W: int, H: int, horizon: int) -> np.ndarray:
    """Sky, a row of buildings with windows, road and pavement with texture noise and markings."""
    img = Image.new("RGB", (W, H))
    draw = ImageDraw.Draw(img)
    sky = rng.integers(120, 230, size=3)
    draw.rectangle([0, 0, W, horizon], fill=tuple(int(c) for c in sky))
    ground = int(rng.integers(70, 140))
    draw.rectangle([0, horizon, W, H], fill=(ground, ground, int(ground * rng.uniform(0.9, 1.1))))
    x = -int(rng.integers(0, 40))
    while x < W:
        bw, bh = int(rng.integers(W // 12, W // 4)), int(rng.integers(horizon // 3, horizon + 1))
        colour = tuple(int(c) for c in rng.integers(50, 200, size=3))
        draw.rectangle([x, horizon - bh, x + bw, horizon], fill=colour)
        win = max(3, bw // 8)   # a grid of windows: window-coloured columns, then wall-coloured floor bands
        top, bottom = horizon - bh + win, horizon - win
        if bottom > top:
            wc = tuple(int(c) for c in rng.integers(20, 255, size=3))
            for wx in range(x + win // 2, x + bw - win, 2 * win):
                draw.rectangle([wx, top, wx + win - 1, bottom], fill=wc)
            for wy in range(top + win, bottom + 1, 2 * win):
                draw.rectangle([x, wy, x + bw, min(wy + win - 1, bottom)], fill=colour)
        x += bw
    curb = horizon + int((H - horizon) * rng.uniform(0.15, 0.4))
    pave = int(rng.integers(110, 190))
    draw.rectangle([0, horizon, W, curb], fill=(pave, pave - 5, pave - 15))
    for _ in range(int(rng.integers(0, 4))):   # lane markings
        y = int(rng.integers(curb, H))
        draw.line([(0, y), (W, y + int(rng.integers(-20, 21)))], fill=(230, 230, 220), width=int(rng.integers(1, 5)))
    for _ in range(int(rng.integers(3, 10))):   # clutter blobs on the ground and walls
        cx, cy, r = int(rng.integers(0, W)), int(rng.integers(0, H)), int(rng.integers(3, max(4, W // 20)))
        draw.ellipse([cx - r, cy - r // 2, cx + r, cy + r // 2], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    texture = _value_noise(rng, H, W, 12, 35)
    return np.array(ImageChops.add(img, Image.merge("RGB", (texture,) * 3), 1.0, -128))


def _shape_sprite(size: tuple[int, int], shapes: list[tuple[str, list, tuple]]) -> Sprite:
    w, h = max(1, size[0]), max(1, size[1])
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    for kind, xy, colour in shapes:
        getattr(draw, kind)(xy, fill=tuple(colour) + (255,))
    rgba = np.asarray(canvas)
    return Sprite(np.ascontiguousarray(rgba[..., :3]), rgba[..., 3] > 0)


def _colour(rng: np.random.Generator, lo: int = 20, hi: int = 230) -> tuple[int, ...]:
    return tuple(int(c) for c in rng.integers(lo, hi, size=3))


def distractor_sprite(rng: np.random.Generator, scale: float) -> Sprite:
    """A person-sized, person-like object: pole, sign on a pole, bollard, bin, tree trunk or hydrant."""
    kind = int(rng.integers(6))
    h = max(6, int(scale * rng.uniform(0.5, 1.3)))
    grey = _colour(rng, 40, 140)
    if kind == 0:   # pole
        w = max(2, int(h * rng.uniform(0.03, 0.08)))
        return _shape_sprite((w, h), [("rectangle", [0, 0, w - 1, h - 1], grey)])
    if kind == 1:   # round or square sign on a pole: a "head on a body"
        s = max(4, int(h * rng.uniform(0.15, 0.3)))
        pw = max(2, int(h * 0.04))
        shape = "ellipse" if rng.random() < 0.5 else "rectangle"
        return _shape_sprite((s, h), [("rectangle", [s // 2 - pw // 2, 0, s // 2 + (pw - 1) // 2, h - 1], grey),
                                      (shape, [0, 0, s - 1, s - 1], _colour(rng))])
    if kind == 2:   # bollard / bin: a short rounded block
        h2, w = max(4, h // 3), max(3, int(h * rng.uniform(0.12, 0.3)))
        return _shape_sprite((w, h2), [("rounded_rectangle", [0, 0, w - 1, h2 - 1], _colour(rng))])
    if kind == 3:   # young tree: trunk and a narrow canopy
        w = max(3, int(h * rng.uniform(0.25, 0.45)))
        tw = max(2, w // 5)
        return _shape_sprite((w, h), [("rectangle", [w // 2 - tw // 2, h // 4, w // 2 + tw // 2, h - 1], (90, 60, 30)),
                                      ("ellipse", [0, 0, w - 1, int(h * 0.45)], (40, int(rng.integers(90, 160)), 40))])
    if kind == 4:   # hydrant / post box: a body with a round top
        h2, w = max(5, int(h * 0.5)), max(3, int(h * 0.18))
        return _shape_sprite((w, h2), [("ellipse", [0, 0, w - 1, w - 1], _colour(rng)),
                                       ("rectangle", [0, w // 2, w - 1, h2 - 1], _colour(rng))])
    w = max(3, int(h * rng.uniform(0.25, 0.45)))   # coat on a stand / narrow vertical sign: person-aspect block
    return _shape_sprite((w, h), [("rectangle", [w // 3, 0, 2 * w // 3, h - 1], grey),
                                  ("polygon", [(w // 2, 0), (w - 1, h // 3), (w // 2, 2 * h // 3), (0, h // 3)], _colour(rng))])


def occluder_sprite(rng: np.random.Generator, person_w: float, person_h: float) -> tuple[Sprite, float, float]:
    """An object hiding part of a person: a low one (car, hedge, wall) or a side one (pillar, board).

    Returns the sprite and its top-left relative to the person's full box (fractions of w and h).
    """
    if rng.random() < 0.6:
        cover = rng.uniform(0.2, 0.85)
        w = int(person_w * rng.uniform(1.2, 4.0)) + 2
        h = int(person_h * cover) + int(person_h * 0.05) + 1
        sprite = _shape_sprite((w, h), [("rounded_rectangle", [0, 0, w - 1, h - 1], _colour(rng)),
                                        ("rectangle", [w // 8, h // 6, w - w // 8, h // 3], _colour(rng, 30, 90))])
        return sprite, -rng.uniform(0.1, (w / max(person_w, 1)) - 0.9), 1.0 - cover
    cover = rng.uniform(0.25, 0.75)
    w = int(person_w * rng.uniform(0.5, 1.5)) + 2
    h = int(person_h * rng.uniform(1.05, 1.8)) + 2
    sprite = _shape_sprite((w, h), [("rectangle", [0, 0, w - 1, h - 1], _colour(rng))])
    left = rng.random() < 0.5
    fx = (cover - w / max(person_w, 1)) if left else 1.0 - cover
    return sprite, fx, 1.05 - h / max(person_h, 1)


# ---------------------------------------------------------------- scene layout


@dataclass
class _Item:
    depth: float
    sprite: Sprite
    x0: int
    y0: int
    owner: int


def _height_bounds(config: SceneConfig) -> tuple[float, float]:
    lo, hi = config.person_height
    hi = min(hi, 0.95 * config.height - 4)   # room for the rasterisation's extra row
    return min(lo, hi), hi


def _sample_height(rng: np.random.Generator, config: SceneConfig) -> float:
    lo, hi = _height_bounds(config)
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _foot_row(rng: np.random.Generator, h: float, horizon: int) -> int:
    """Foot row on a ground plane seen from below eye level: feet 0.45-0.75 h under the horizon."""
    return int(horizon + h * rng.uniform(0.45, 0.75))


def _top_row(foot: float, sprite_height: int, H: int) -> int:
    """Top row of a sprite standing on ``foot``, moved so that the whole sprite is inside the image."""
    return int(min(max(foot - sprite_height, 0), H - sprite_height))


def _person(rng: np.random.Generator, config: SceneConfig, h: float) -> PersonSprite:
    lo, hi = _height_bounds(config)
    h = min(max(h, lo), hi)   # crowd and group members vary around a sampled height; stay in range
    pose = sample_pose(rng, config.side_view_probability, config.crouch_probability)
    return render_person(rng, h, float(rng.uniform(*config.aspect)), pose)


def _place_x(rng: np.random.Generator, W: int, w: int, around: float | None = None, spread: float = 0.0) -> int:
    x = rng.uniform(0, max(W - w, 0) + 1) if around is None else around + rng.uniform(-spread, spread)
    return int(min(max(x, 0), max(W - w, 0)))


def generate_scene(rng: np.random.Generator, config: SceneConfig) -> Scene:
    """Render one scene and its exact ground truth (visibility from the final label map)."""
    W, H = config.width, config.height
    horizon = int(H * rng.uniform(0.3, 0.5))
    canvas = Canvas(_background(rng, W, H, horizon))
    items: list[_Item] = []
    people: list[tuple[PersonSprite, int, int, str]] = []   # sprite, x0, y0, kind; owner = index + 1

    for _ in range(int(rng.integers(config.distractors[0], config.distractors[1] + 1))):
        sprite = distractor_sprite(rng, _sample_height(rng, config))
        h, w = sprite.mask.shape
        foot = _foot_row(rng, h, horizon) + int(rng.integers(-3, 4))
        items.append(_Item(foot + 0.5, sprite, _place_x(rng, W, w), foot - h, -1))

    if rng.random() >= config.empty_fraction:
        if rng.random() < config.group_probability:
            _add_group(rng, config, horizon, items, people)
        n = int(rng.integers(config.people[0], config.people[1] + 1))
        crowd = int(rng.integers(2, 5)) if rng.random() < config.crowd_probability else 0
        for i in range(n + crowd):
            if 0 < i < crowd:   # crowd member: similar height and depth, overlapping the previous member
                ref, rx, ry, _ = people[-1]
                h = ref.box[3] * rng.uniform(0.85, 1.15)
                ps = _person(rng, config, h)
                foot = ry + ref.box[3] + rng.uniform(-0.08, 0.08) * h
                x0 = _place_x(rng, W, ps.sprite.mask.shape[1], rx, 0.5 * ref.box[2])
            else:
                h = _sample_height(rng, config)
                ps = _person(rng, config, h)
                foot = _foot_row(rng, ps.box[3], horizon)
                x0 = _place_x(rng, W, ps.sprite.mask.shape[1])
            y0 = _top_row(foot, ps.sprite.mask.shape[0], H)
            people.append((ps, x0, y0, "person"))
            items.append(_Item(y0 + ps.box[3], ps.sprite, x0, y0, len(people)))
            if rng.random() < config.occlusion_probability:
                sprite, fx, fy = occluder_sprite(rng, ps.box[2], ps.box[3])
                bx = x0 + ps.box[0]
                items.append(_Item(y0 + ps.box[3] + 0.25, sprite, int(bx + fx * ps.box[2]), int(y0 + fy * ps.box[3]), -1))

    for item in sorted(items, key=lambda it: it.depth):   # stable: equal depths keep creation order
        canvas.paste(item.sprite, item.x0, item.y0, item.owner)
    return _finish(rng, config, canvas, people)


def _add_group(rng, config, horizon, items, people) -> None:
    """A dense, heavily overlapping group of similar-sized people sharing one owner (an ignore region)."""
    W, H = config.width, config.height
    h0 = _sample_height(rng, config)
    count = int(rng.integers(config.group_size[0], config.group_size[1] + 1))
    foot0 = _foot_row(rng, h0, horizon)
    x_start = _place_x(rng, W, int(0.2 * h0 * count + h0 * 0.41))
    members = []
    for k in range(count):
        h = h0 * rng.uniform(0.85, 1.1)
        ps = _person(rng, config, h)
        foot = foot0 + rng.uniform(-0.1, 0.1) * h0
        x0 = _place_x(rng, W, ps.sprite.mask.shape[1], x_start + 0.2 * h0 * k, 0.05 * h0)
        members.append((ps, x0, _top_row(foot, ps.sprite.mask.shape[0], H)))
    # One annotation for the group: its "sprite" is the union of members, owner = its index.
    x_lo = min(x for _, x, _ in members)
    y_lo = min(y for _, _, y in members)
    x_hi = max(x + ps.sprite.mask.shape[1] for ps, x, _ in members)
    y_hi = max(y + ps.sprite.mask.shape[0] for ps, _, y in members)
    union = np.zeros((y_hi - y_lo, x_hi - x_lo), bool)
    for ps, x, y in members:
        mh, mw = ps.sprite.mask.shape
        union[y - y_lo:y - y_lo + mh, x - x_lo:x - x_lo + mw] |= ps.sprite.mask
    group = PersonSprite(Sprite(np.zeros(union.shape + (3,), np.uint8), union), (0.0, 0.0, float(x_hi - x_lo), float(y_hi - y_lo)))
    people.append((group, x_lo, y_lo, "group"))
    owner = len(people)
    for ps, x, y in members:
        items.append(_Item(y + ps.box[3], ps.sprite, x, y, owner))


def _finish(rng, config: SceneConfig, canvas: Canvas, people) -> Scene:
    """Measure visibility of every person from the label map; add sensor noise."""
    annotations, masks = [], []
    for index, (ps, x0, y0, kind) in enumerate(people, start=1):
        visibility, vis_box = visibility_from_labels(canvas.labels, index, x0, y0, ps.sprite.mask)
        bx, by, bw, bh = ps.box
        box = (x0 + bx, y0 + by, bw, bh)
        if kind == "group":
            annotations.append(Annotation(box, (0.0, 0.0, 0.0, 0.0), 0.0, True, "group"))
        else:
            annotations.append(Annotation(box, vis_box, visibility, visibility < config.min_visibility))
        masks.append((x0, y0, ps.sprite.mask))
    image = canvas.image
    if config.pixel_noise > 0:   # sensor noise, uniform in +-pixel_noise, saturating
        k = config.pixel_noise
        noise = rng.integers(0, 2 * k + 1, size=image.shape, dtype=np.uint8)
        image = np.array(ImageChops.add(Image.fromarray(image), Image.fromarray(noise), 1.0, -k))
    keep = [i for i, a in enumerate(annotations) if a.kind == "group" or a.visibility > 0]
    return Scene(image, [annotations[i] for i in keep], canvas.labels, [i + 1 for i in keep], [masks[i] for i in keep])
