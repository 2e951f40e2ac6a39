"""Procedural tracking videos that need no files.

Each sequence shows several textured objects over a textured, slowly panning
background. An object's *category* is its shape plus its texture family
(``ellipse`` + ``stripes``, ``rectangle`` + ``checker``, ...); instances of one
category differ in colours, texture frequency and orientation, so a
same-category distractor looks like the target at the category level but not
at the instance level -- exactly the situation SPM-Tracker's two stages are
built for. Objects move (damped random walk with bounces), scale, change their
aspect ratio (h / w in [1/3, 3]) and occlude each other (a depth order that
changes now and then; one same-category distractor is drawn towards the target
so occlusions happen).

Object 0 is the target. Boxes are integer-aligned so the ground truth matches
the rendered pixels exactly: ``x, y, w, h`` with the top-left corner ``x, y``
in continuous 0-based pixel coordinates (pixel ``i`` covers ``[i, i + 1)``,
width = x2 - x1, no "+1"). A box may extend past the frame border.

Everything is drawn with NumPy + OpenCV from one ``numpy.random.Generator``
seeded by ``seed``: the same seed gives the same frames, bit for bit.

Exporter (OTB layout, 1-based boxes like OTB)::

  python -m spm_jax.data.synthetic --out DIR --num_sequences N \
      --num_frames T --seed S

writes ``DIR/synth_0000/img/0001.jpg ...``, ``DIR/synth_0000/groundtruth_rect.txt``
(``x,y,w,h`` per line) and ``DIR/synth_0000/meta.json`` (categories, the
target's per-frame visibility and every object's 0-based boxes).
"""

import dataclasses
import json
import os

import cv2
import numpy as np
from absl import app
from absl import flags

from spm_jax import cli

SHAPES = ('ellipse', 'rectangle', 'triangle', 'diamond', 'hexagon', 'cross')
TEXTURES = ('stripes', 'checker', 'dots', 'rings', 'blobs', 'plaid')
# Category k = (SHAPES[k], TEXTURES[k]).
CATEGORY_NAMES = tuple(f'{s}_{t}' for s, t in zip(SHAPES, TEXTURES))
NUM_CATEGORIES = len(CATEGORY_NAMES)

_TEXTURE_SIZE = 96  # side of the per-instance texture, resized to the box each frame.
_MIN_SIDE = 6  # smallest box side in pixels.


@dataclasses.dataclass(frozen=True)
class SyntheticSequence:
  """One generated video.

  Attributes:
    frames: [T, H, W, 3] uint8 RGB.
    boxes: [T, N, 4] float32 x, y, w, h (top-left corner and size, 0-based
      continuous pixels, integer-valued); object 0 is the target.
    categories: [N] int32 category ids in [0, NUM_CATEGORIES).
    visible: [T, N] bool, ``visible_fraction >= min_visible_fraction``.
    visible_fraction: [T, N] float32 share of the object's own pixels that is
      drawn in the frame (not occluded, not outside the image).
  """
  frames: np.ndarray
  boxes: np.ndarray
  categories: np.ndarray
  visible: np.ndarray
  visible_fraction: np.ndarray


# ----------------------------------------------------------------------------
# Shapes and textures.
# ----------------------------------------------------------------------------

def _polygon(shape):
  """[V, 2] vertices in the unit square (x, y in [0, 1]) of a polygon shape."""
  if shape == 'rectangle':
    return np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float64)
  if shape == 'triangle':
    return np.array([[0.5, 0], [1, 1], [0, 1]], np.float64)
  if shape == 'diamond':
    return np.array([[0.5, 0], [1, 0.5], [0.5, 1], [0, 0.5]], np.float64)
  if shape == 'hexagon':
    return np.array([[0.25, 0], [0.75, 0], [1, 0.5], [0.75, 1], [0.25, 1], [0, 0.5]],
                    np.float64)
  if shape == 'cross':
    a, b = 0.3, 0.7
    return np.array([[a, 0], [b, 0], [b, a], [1, a], [1, b], [b, b], [b, 1], [a, 1],
                     [a, b], [0, b], [0, a], [a, a]], np.float64)
  raise ValueError(f'unknown shape {shape!r}')


def _shape_mask(shape, w, h):
  """[h, w] bool mask of ``shape`` filling a ``w x h`` box (touching all sides)."""
  mask = np.zeros((h, w), np.uint8)
  if shape == 'ellipse':
    centre = (int(round((w - 1) * 8)), int(round((h - 1) * 8)))  # shift=4 -> x16.
    axes = (int(round((w - 1) * 8)), int(round((h - 1) * 8)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1, cv2.LINE_8, 4)
  else:
    pts = _polygon(shape) * np.array([w - 1, h - 1], np.float64)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
  return mask.astype(bool)


def _random_colour(rng):
  """A saturated RGB colour as float [3] in [0, 255]."""
  hsv = np.array([[[rng.uniform(0, 180), rng.uniform(120, 255), rng.uniform(110, 255)]]],
                 np.float32)
  return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _texture(family, rng, size=_TEXTURE_SIZE):
  """[size, size, 3] uint8 RGB texture of ``family`` with random instance parameters."""
  c1, c2 = _random_colour(rng), _random_colour(rng)
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
  if family == 'stripes':
    theta = rng.uniform(0, np.pi)
    freq = rng.uniform(3, 7)
    t = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (xx * np.cos(theta) + yy * np.sin(theta)))
  elif family == 'checker':
    n = rng.integers(3, 7)
    t = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(np.float32)
  elif family == 'dots':
    n = rng.integers(3, 6)
    r = rng.uniform(0.2, 0.35)
    fx, fy = (xx * n) % 1 - 0.5, (yy * n) % 1 - 0.5
    t = (fx * fx + fy * fy < r * r).astype(np.float32)
  elif family == 'rings':
    freq = rng.uniform(3, 6)
    d = np.sqrt((xx - 0.5) ** 2 + (yy - 0.5) ** 2)
    t = 0.5 + 0.5 * np.cos(2 * np.pi * freq * d)
  elif family == 'blobs':
    g = rng.uniform(0, 1, (4, 4)).astype(np.float32)
    t = cv2.resize(g, (size, size), interpolation=cv2.INTER_CUBIC)
    t = np.clip((t - t.min()) / max(float(t.max() - t.min()), 1e-6), 0, 1)
  elif family == 'plaid':
    f1, f2 = rng.uniform(2, 5), rng.uniform(2, 5)
    t = 0.5 * ((np.sin(2 * np.pi * f1 * xx) > 0.3).astype(np.float32)
               + (np.sin(2 * np.pi * f2 * yy) > 0.3).astype(np.float32))
  else:
    raise ValueError(f'unknown texture {family!r}')
  tex = c1 * (1 - t[..., None]) + c2 * t[..., None]
  # A dark outline keeps the object's extent visible against any background.
  tex[:2], tex[-2:], tex[:, :2], tex[:, -2:] = 0.4 * tex[:2], 0.4 * tex[-2:], \
      0.4 * tex[:, :2], 0.4 * tex[:, -2:]
  return np.clip(tex, 0, 255).astype(np.uint8)


def _background(rng, height, width):
  """[height, width, 3] uint8 RGB cluttered background (noise, lines, blobs)."""
  base = rng.uniform(40, 215, (rng.integers(3, 7), rng.integers(3, 7), 3)).astype(np.float32)
  bg = cv2.resize(base, (width, height), interpolation=cv2.INTER_CUBIC)
  fine = rng.uniform(-1, 1, (height // 8 + 1, width // 8 + 1, 3)).astype(np.float32)
  bg += 18 * cv2.resize(fine, (width, height), interpolation=cv2.INTER_LINEAR)
  bg = np.clip(bg, 0, 255).astype(np.uint8)
  for _ in range(int(rng.integers(8, 20))):  # Clutter that is no category.
    colour = tuple(int(c) for c in rng.uniform(0, 255, 3))
    p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
    if rng.uniform() < 0.5:
      p2 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
      cv2.line(bg, p1, p2, colour, int(rng.integers(1, 4)), cv2.LINE_AA)
    else:
      cv2.circle(bg, p1, int(rng.integers(3, 15)), colour, -1, cv2.LINE_AA)
  return bg


# ----------------------------------------------------------------------------
# Motion.
# ----------------------------------------------------------------------------

@dataclasses.dataclass
class MovingObject:
  """One object's state: category, appearance, centre, velocity, size and aspect (pixels)."""
  category: int
  texture: np.ndarray  # [S, S, 3] uint8 (or any [h, w, 3] appearance resized to the box)
  cx: float
  cy: float
  vx: float
  vy: float
  log_size: float  # log sqrt(w h)
  log_size_mean: float
  log_ratio: float  # log h / w


def object_box(obj):
  """Integer x, y, w, h of an object's current state."""
  size, ratio = np.exp(obj.log_size), np.exp(obj.log_ratio)
  w = max(_MIN_SIDE, int(round(size / np.sqrt(ratio))))
  h = max(_MIN_SIDE, int(round(size * np.sqrt(ratio))))
  return int(round(obj.cx - w / 2)), int(round(obj.cy - h / 2)), w, h


def move_object(obj, rng, width, height, max_speed, attract_to=None, keep_inside=False):
  """Advances ``obj`` one frame: damped random walk, bounces, size/ratio drift."""
  obj.vx = 0.9 * obj.vx + rng.normal(0, 0.6)
  obj.vy = 0.9 * obj.vy + rng.normal(0, 0.6)
  if attract_to is not None:
    dx, dy = attract_to[0] - obj.cx, attract_to[1] - obj.cy
    d = max(np.hypot(dx, dy), 1.0)
    obj.vx += 0.35 * dx / d
    obj.vy += 0.35 * dy / d
  speed = np.hypot(obj.vx, obj.vy)
  if speed > max_speed:
    obj.vx, obj.vy = obj.vx * max_speed / speed, obj.vy * max_speed / speed
  obj.cx += obj.vx
  obj.cy += obj.vy
  obj.log_size += rng.normal(0, 0.025) + 0.05 * (obj.log_size_mean - obj.log_size)
  obj.log_ratio = float(np.clip(obj.log_ratio + rng.normal(0, 0.03), np.log(1 / 3), np.log(3)))
  _, _, w, h = object_box(obj)
  # Targets stay inside the frame; distractors may leave it partly.
  mx, my = (w / 2, h / 2) if keep_inside else (0.0, 0.0)
  for attr, vel, lo, hi in (('cx', 'vx', mx, width - mx), ('cy', 'vy', my, height - my)):
    pos = getattr(obj, attr)
    if pos < lo or pos > hi:
      setattr(obj, attr, float(np.clip(pos, lo, hi)))
      setattr(obj, vel, -getattr(obj, vel))


# ----------------------------------------------------------------------------
# Generation.
# ----------------------------------------------------------------------------

def generate_sequence(seed, num_frames=100, height=240, width=320, num_same_category=2,
                      num_other=2, min_size=20.0, max_size=80.0, max_speed=6.0, pan=24,
                      min_visible_fraction=0.3, target_category=None):
  """Generates one procedural video.

  Args:
    seed: int or sequence of ints for ``numpy.random.default_rng``.
    num_frames: T.
    height, width: frame size H, W in pixels.
    num_same_category: distractors of the target's category ("several").
    num_other: distractors of other categories.
    min_size, max_size: range of the mean object size sqrt(w h) in pixels.
    max_speed: largest object speed in pixels per frame.
    pan: largest background (camera) offset in pixels.
    min_visible_fraction: an object is ``visible`` when at least this share of
      its pixels is drawn.
    target_category: fixes the target's category; random when None.

  Returns:
    A :class:`SyntheticSequence`; ``boxes`` [T, N, 4] x, y, w, h with
    N = 1 + num_same_category + num_other and object 0 the target.
  """
  rng = np.random.default_rng(seed)
  cat = int(rng.integers(NUM_CATEGORIES)) if target_category is None else int(target_category)
  others = [c for c in range(NUM_CATEGORIES) if c != cat]
  categories = [cat] * (1 + num_same_category) + [
      int(rng.choice(others)) for _ in range(num_other)]
  objs = []
  for c in categories:
    mean = rng.uniform(np.log(min_size), np.log(max_size))
    objs.append(MovingObject(
        category=c, texture=_texture(TEXTURES[c], rng),
        cx=float(rng.uniform(0.15, 0.85) * width), cy=float(rng.uniform(0.15, 0.85) * height),
        vx=float(rng.normal(0, 2)), vy=float(rng.normal(0, 2)),
        log_size=mean, log_size_mean=mean,
        log_ratio=float(rng.uniform(np.log(0.5), np.log(2)))))
  num = len(objs)
  depth = rng.permutation(num)  # Larger is nearer the camera.
  canvas = _background(rng, height + 2 * pan, width + 2 * pan)
  pan_xy, pan_v = np.zeros(2), np.zeros(2)
  gain_phase, gain_freq = rng.uniform(0, 2 * np.pi), rng.uniform(0.02, 0.08)

  frames = np.empty((num_frames, height, width, 3), np.uint8)
  boxes = np.empty((num_frames, num, 4), np.float32)
  frac = np.empty((num_frames, num), np.float32)
  masks = {}
  for t in range(num_frames):
    if t > 0:
      for i, o in enumerate(objs):
        attract = (objs[0].cx, objs[0].cy) if i == 1 and num_same_category > 0 else None
        move_object(o, rng, width, height, max_speed, attract, keep_inside=(i == 0))
      if rng.uniform() < 0.03:  # Occasionally reorder depth.
        depth = rng.permutation(num)
      pan_v = np.clip(0.9 * pan_v + rng.normal(0, 0.4, 2), -2, 2)
      pan_xy = np.clip(pan_xy + pan_v, -pan, pan)
    ox, oy = int(round(pan + pan_xy[0])), int(round(pan + pan_xy[1]))
    frame = canvas[oy:oy + height, ox:ox + width].copy()
    owner = np.full((height, width), 255, np.uint8)
    areas = np.zeros(num, np.int64)
    for i in np.argsort(depth):
      o = objs[i]
      x, y, w, h = object_box(o)
      boxes[t, i] = (x, y, w, h)
      key = (o.category, w, h)
      if key not in masks:
        masks[key] = _shape_mask(SHAPES[o.category], w, h)
      mask = masks[key]
      areas[i] = mask.sum()
      x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
      if x2 <= x1 or y2 <= y1:
        continue
      patch = cv2.resize(o.texture, (w, h), interpolation=cv2.INTER_LINEAR)
      sub = mask[y1 - y:y2 - y, x1 - x:x2 - x]
      frame[y1:y2, x1:x2][sub] = patch[y1 - y:y2 - y, x1 - x:x2 - x][sub]
      owner[y1:y2, x1:x2][sub] = i
    counts = np.bincount(owner.ravel(), minlength=256)[:num]
    frac[t] = counts / np.maximum(areas, 1)
    gain = 1.0 + 0.12 * np.sin(gain_phase + gain_freq * t)
    frames[t] = cv2.convertScaleAbs(frame, alpha=gain)
  return SyntheticSequence(
      frames=frames, boxes=boxes, categories=np.asarray(categories, np.int32),
      visible=frac >= min_visible_fraction, visible_fraction=frac)


def sequence_seed(seed, index):
  """The generator seed of sequence ``index`` of a dataset seeded with ``seed``."""
  return (int(seed), int(index))


def sequence_name(index):
  """Folder name of sequence ``index``: ``synth_0000``."""
  return f'synth_{index:04d}'


# ----------------------------------------------------------------------------
# OTB exporter.
# ----------------------------------------------------------------------------

def export_otb(out_dir, num_sequences, num_frames=100, seed=0, jpeg_quality=90, **kwargs):
  """Writes ``num_sequences`` sequences in the OTB layout.

  ``out_dir/synth_NNNN/img/0001.jpg ...`` (RGB frames saved as JPEG),
  ``groundtruth_rect.txt`` with the target's ``x,y,w,h`` per frame, 1-based
  like OTB (``x_otb = x + 1``), and ``meta.json``.

  Args:
    out_dir: output folder (created).
    num_sequences, num_frames: N sequences of T frames.
    seed: dataset seed; sequence i uses ``sequence_seed(seed, i)``.
    jpeg_quality: OpenCV JPEG quality.
    **kwargs: passed to :func:`generate_sequence`.

  Returns:
    List of the written sequence folders.
  """
  written = []
  for i in range(num_sequences):
    seq = generate_sequence(sequence_seed(seed, i), num_frames=num_frames, **kwargs)
    seq_dir = os.path.join(out_dir, sequence_name(i))
    img_dir = os.path.join(seq_dir, 'img')
    os.makedirs(img_dir, exist_ok=True)
    for t, frame in enumerate(seq.frames):
      path = os.path.join(img_dir, f'{t + 1:04d}.jpg')
      ok = cv2.imwrite(path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                       [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
      if not ok:
        raise OSError(f'could not write {path}')
    gt = seq.boxes[:, 0].astype(np.int64)
    gt[:, :2] += 1
    with open(os.path.join(seq_dir, 'groundtruth_rect.txt'), 'w') as f:
      f.writelines(f'{x},{y},{w},{h}\n' for x, y, w, h in gt)
    meta = {
        'seed': [int(s) for s in sequence_seed(seed, i)],
        'categories': [CATEGORY_NAMES[c] for c in seq.categories],
        'target_visible': [bool(v) for v in seq.visible[:, 0]],
        # [T][N] x, y, w, h of every object, 0-based (analysis.failures).
        'objects': seq.boxes.astype(np.int64).tolist(),
    }
    with open(os.path.join(seq_dir, 'meta.json'), 'w') as f:
      json.dump(meta, f)
    written.append(seq_dir)
  return written


def define_flags():
  """The exporter's command line (``cli.absl_run`` defines it when the command runs)."""
  flags.DEFINE_string('out', None, 'Output folder.')
  flags.mark_flag_as_required('out')
  flags.DEFINE_integer('num_sequences', 10, 'Sequences to write.', lower_bound=1)
  flags.DEFINE_integer('num_frames', 100, 'Frames per sequence.', lower_bound=1)
  flags.DEFINE_integer('seed', 0, 'Seed of the first sequence.', lower_bound=0)
  flags.DEFINE_integer('height', 240, 'Frame height (pixels).', lower_bound=1)
  flags.DEFINE_integer('width', 320, 'Frame width (pixels).', lower_bound=1)


def main(argv=None):
  """Runs the exporter on ``argv`` (without the program name; default ``sys.argv[1:]``)."""
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  args = flags.FLAGS
  dirs = export_otb(args.out, args.num_sequences, args.num_frames, args.seed,
                    height=args.height, width=args.width)
  print(f'wrote {len(dirs)} sequences to {args.out}')


if __name__ == '__main__':
  main()
