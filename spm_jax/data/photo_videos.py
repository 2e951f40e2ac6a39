"""Procedural videos made of real photographs: labelled objects moving over real backgrounds.

Objects are cut out of labelled still images by their boxes (the box's
pixels, edges feathered into the background) and moved with the motion of
:mod:`spm_jax.data.synthetic` (damped random walk with bounces, size drift, a
same-category distractor drawn towards the target, depth order changing now
and then) over a panning crop of a real photograph. Each video has the target
(object 0), up to ``num_same_category`` other instances of its class (cut from
other boxes) and ``num_other`` objects of other classes; categories are the
still datasets' class names. A cut-out keeps its own aspect ratio give or take
the drift (pulled back towards it every frame) and is flipped left-right half
the time.

Boxes are integer-aligned ``x, y, w, h`` (0-based continuous pixels, width =
x2 - x1): the cut-out's full extent. An object is visible when at least
``min_visible_fraction`` of its pixels (feathering weight >= 0.5) are drawn.
The same seed, bank and backgrounds give the same frames, bit for bit.
"""

import dataclasses

import cv2
import numpy as np

from spm_jax.data import synthetic


@dataclasses.dataclass(frozen=True)
class ObjectBank:
  """Cut-outs to draw from.

  Attributes:
    patches: list of [h, w, 3] uint8 RGB box contents.
    categories: [P] class name of each patch.
  """
  patches: list
  categories: list

  def by_category(self):
    """class name -> [n] int64 patch indices, names sorted."""
    out = {}
    for i, c in enumerate(self.categories):
      out.setdefault(c, []).append(i)
    return {c: np.asarray(out[c], np.int64) for c in sorted(out)}


@dataclasses.dataclass(frozen=True)
class PhotoSequence:
  """One generated video.

  Attributes:
    frames: [T, H, W, 3] uint8 RGB.
    boxes: [T, N, 4] float32 x, y, w, h (0-based continuous pixels,
      integer-valued); object 0 is the target.
    categories: [N] class names.
    visible: [T, N] bool, ``visible_fraction >= min_visible_fraction``.
    visible_fraction: [T, N] float32 share of the object's pixels drawn.
  """
  frames: np.ndarray
  boxes: np.ndarray
  categories: list
  visible: np.ndarray
  visible_fraction: np.ndarray


def cut_objects(image, boxes, categories, visible, min_side=24, max_side=160):
  """Cut-outs of an image's visible boxes.

  Args:
    image: [H, W, 3] uint8 RGB.
    boxes: [N, 4] x, y, w, h (0-based continuous pixels).
    categories: [N] class names.
    visible: [N] bool.
    min_side: boxes narrower or lower than this (pixels) are skipped.
    max_side: cut-outs are shrunk so that their longer side is at most this.

  Returns:
    ``[(patch, category)]`` with patch [h, w, 3] uint8: the pixels
    ``[floor(x), ceil(x + w))`` x ``[floor(y), ceil(y + h))`` clipped to the image.
  """
  height, width = image.shape[:2]
  out = []
  boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
  for (x, y, w, h), cat, vis in zip(boxes, categories, visible):
    if not vis or w < min_side or h < min_side:
      continue
    x1, y1 = max(int(np.floor(x)), 0), max(int(np.floor(y)), 0)
    x2, y2 = min(int(np.ceil(x + w)), width), min(int(np.ceil(y + h)), height)
    if x2 - x1 < min_side or y2 - y1 < min_side:
      continue
    patch = image[y1:y2, x1:x2]
    s = max_side / max(patch.shape[:2])
    if s < 1:
      size = (max(1, round(patch.shape[1] * s)), max(1, round(patch.shape[0] * s)))
      patch = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    out.append((np.ascontiguousarray(patch), cat))
  return out


def clear_objects(image, boxes, max_side=480, fill_side=120):
  """An image with its boxes painted over from their surroundings (a background photo).

  Args:
    image: [H, W, 3] uint8 RGB.
    boxes: [N, 4] x, y, w, h (0-based continuous pixels).
    max_side: the image is first shrunk to at most this longer side.
    fill_side: the fill is computed at this longer side (``cv2.inpaint``,
      Telea's method; its cost grows with the painted area) and enlarged.

  Returns:
    [h, w, 3] uint8 RGB.
  """
  s = min(1.0, max_side / max(image.shape[:2]))
  if s < 1:
    image = cv2.resize(image, (round(image.shape[1] * s), round(image.shape[0] * s)),
                       interpolation=cv2.INTER_AREA)
  mask = np.zeros(image.shape[:2], np.uint8)
  for x, y, w, h in np.asarray(boxes, np.float64).reshape(-1, 4) * s:
    mask[max(int(y), 0):int(np.ceil(y + h)), max(int(x), 0):int(np.ceil(x + w))] = 255
  if not mask.any():
    return image
  size = image.shape[1::-1]
  f = min(1.0, fill_side / max(size))
  small = (max(1, round(size[0] * f)), max(1, round(size[1] * f)))
  small_mask = cv2.resize(mask, small, interpolation=cv2.INTER_NEAREST)
  small_mask = cv2.dilate(small_mask, np.ones((3, 3), np.uint8))
  fill = cv2.inpaint(cv2.resize(image, small, interpolation=cv2.INTER_AREA), small_mask, 3,
                     cv2.INPAINT_TELEA)
  fill = cv2.resize(fill, size, interpolation=cv2.INTER_LINEAR)
  out = image.copy()
  out[mask > 0] = fill[mask > 0]
  return out


def feather_mask(w, h, feather):
  """[h, w] float32 weights: 1 inside, ramping down over ``feather`` of each side at the edges.

  The ramp is at least one pixel wide (edge pixels 0.5) unless ``feather`` is 0 (all 1).
  """
  if feather <= 0:
    return np.ones((h, w), np.float32)

  def ramp(n):
    d = np.minimum(np.arange(n) + 0.5, n - 0.5 - np.arange(n))
    return np.clip(d / max(feather * n, 1.0), 0, 1).astype(np.float32)
  return np.minimum(ramp(h)[:, None], ramp(w)[None, :])


def _background_crop(rng, photo, height, width):
  """A random crop of ``photo`` resized to [height, width, 3] (uint8 RGB)."""
  ph, pw = photo.shape[:2]
  s = min(pw / width, ph / height) * rng.uniform(0.35, 1.0)
  cw, ch = max(int(width * s), 8), max(int(height * s), 8)
  x0, y0 = int(rng.integers(0, pw - cw + 1)), int(rng.integers(0, ph - ch + 1))
  crop = photo[y0:y0 + ch, x0:x0 + cw]
  if rng.uniform() < 0.5:
    crop = crop[:, ::-1]
  return cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=cv2.INTER_AREA)


def _pick_objects(rng, by_cat, num_same_category, num_other):
  """Distinct patch indices: the target, same-category instances, then other-category ones."""
  names = list(by_cat)
  weights = np.sqrt([len(by_cat[c]) for c in names])  # Between per-object and per-class.
  cat = names[rng.choice(len(names), p=weights / weights.sum())]
  pool = by_cat[cat]
  same = rng.choice(pool, size=min(1 + num_same_category, pool.size), replace=False)
  others = [c for c in names if c != cat]
  picks = [int(i) for i in same]
  for _ in range(num_other):
    open_cats = [c for c in others if any(int(i) not in picks for i in by_cat[c])]
    if not open_cats:
      break
    c = open_cats[rng.integers(len(open_cats))]
    free = [int(i) for i in by_cat[c] if int(i) not in picks]  # each object another cut-out.
    picks.append(free[rng.integers(len(free))])
  return picks


def generate_photo_sequence(seed, bank, backgrounds, num_frames=60, height=240, width=320,
                            num_same_category=2, num_other=2, min_size=24.0, max_size=96.0,
                            max_speed=6.0, pan=24, min_visible_fraction=0.3, feather=0.12):
  """Generates one video of cut-outs over a photograph.

  Args:
    seed: int or sequence of ints for ``numpy.random.default_rng``.
    bank: :class:`ObjectBank` (at least one patch).
    backgrounds: list of [h, w, 3] uint8 RGB photographs (at least one).
    num_frames: T.
    height, width: frame size H, W in pixels.
    num_same_category: other instances of the target's class (fewer when the
      bank has fewer).
    num_other: objects of other classes (none when the bank has one class).
    min_size, max_size: range of the mean object size sqrt(w h) in pixels.
    max_speed: largest object speed in pixels per frame.
    pan: largest background (camera) offset in pixels.
    min_visible_fraction: visibility threshold (see the module docstring).
    feather: share of each side over which a cut-out's edge fades in.

  Returns:
    A :class:`PhotoSequence`.
  """
  rng = np.random.default_rng(seed)
  picks = _pick_objects(rng, bank.by_category(), num_same_category, num_other)
  num_same = sum(bank.categories[i] == bank.categories[picks[0]] for i in picks) - 1
  objs, ratios = [], []
  for k, i in enumerate(picks):
    patch = bank.patches[i]
    if rng.uniform() < 0.5:
      patch = np.ascontiguousarray(patch[:, ::-1])
    mean = rng.uniform(np.log(min_size), np.log(max_size))
    ratio = float(np.clip(np.log(patch.shape[0] / patch.shape[1]), np.log(1 / 3), np.log(3)))
    ratios.append(ratio)
    objs.append(synthetic.MovingObject(
        category=k, texture=patch,
        cx=float(rng.uniform(0.15, 0.85) * width), cy=float(rng.uniform(0.15, 0.85) * height),
        vx=float(rng.normal(0, 2)), vy=float(rng.normal(0, 2)),
        log_size=mean, log_size_mean=mean, log_ratio=ratio))
  num = len(objs)
  depth = rng.permutation(num)  # Larger is nearer the camera.
  canvas = _background_crop(rng, backgrounds[rng.integers(len(backgrounds))],
                            height + 2 * pan, width + 2 * pan)
  pan_xy, pan_v = np.zeros(2), np.zeros(2)
  gain_phase, gain_freq = rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.08)

  frames = np.empty((num_frames, height, width, 3), np.uint8)
  boxes = np.empty((num_frames, num, 4), np.float32)
  frac = np.empty((num_frames, num), np.float32)
  for t in range(num_frames):
    if t > 0:
      for i, o in enumerate(objs):
        attract = (objs[0].cx, objs[0].cy) if i == 1 and num_same > 0 else None
        synthetic.move_object(o, rng, width, height, max_speed, attract, keep_inside=(i == 0))
        o.log_ratio += 0.2 * (ratios[i] - o.log_ratio)  # A photo keeps its shape.
      if rng.uniform() < 0.03:
        depth = rng.permutation(num)
      pan_v = np.clip(0.9 * pan_v + rng.normal(0, 0.4, 2), -2, 2)
      pan_xy = np.clip(pan_xy + pan_v, -pan, pan)
    ox, oy = int(round(pan + pan_xy[0])), int(round(pan + pan_xy[1]))
    frame = canvas[oy:oy + height, ox:ox + width].astype(np.float32)
    owner = np.full((height, width), 255, np.uint8)
    areas = np.zeros(num, np.int64)
    for i in np.argsort(depth):
      o = objs[i]
      x, y, w, h = synthetic.object_box(o)
      boxes[t, i] = (x, y, w, h)
      alpha = feather_mask(w, h, feather)
      solid = alpha >= 0.5
      areas[i] = solid.sum()
      x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
      if x2 <= x1 or y2 <= y1:
        continue
      patch = cv2.resize(o.texture, (w, h), interpolation=cv2.INTER_AREA if w < o.texture.shape[1]
                         else cv2.INTER_LINEAR).astype(np.float32)
      a = alpha[y1 - y:y2 - y, x1 - x:x2 - x, None]
      region = frame[y1:y2, x1:x2]
      frame[y1:y2, x1:x2] = a * patch[y1 - y:y2 - y, x1 - x:x2 - x] + (1 - a) * region
      owner[y1:y2, x1:x2][solid[y1 - y:y2 - y, x1 - x:x2 - x]] = i
    counts = np.bincount(owner.ravel(), minlength=256)[:num]
    frac[t] = counts / np.maximum(areas, 1)
    gain = 1.0 + 0.12 * np.sin(gain_phase + gain_freq * t)
    frames[t] = cv2.convertScaleAbs(frame, alpha=gain)
  return PhotoSequence(frames=frames, boxes=boxes, categories=[bank.categories[i] for i in picks],
                       visible=frac >= min_visible_fraction, visible_fraction=frac)
