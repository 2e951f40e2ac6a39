"""Anchor boxes of the CM stage (SiamRPN style).

One anchor of each aspect ratio sits at every score-map cell. The shapes follow
SiamRPN / the SPM-Tracker release: with ``base_size`` 8, ``scale`` 8 and ratios
``h / w`` in [0.33, 0.5, 1, 2, 3], the sizes are 112x40, 88x48, 64x64, 48x96 and
40x120 (w x h) pixels. Centres are ``offset + stride * k`` in search-crop pixels
(63.5 + 8 k, k = 0..18 for a 271 crop, so the middle cell is at the crop
centre 135.5).

With the release's "+1" box convention (``plus_one``) an anchor of width ``w``
spans ``w - 1`` pixels (its corners are ``c -+ (w - 1) / 2``) and is read back as
``w`` wide by the +1 delta decoding (``spm_jax.ops.boxes.decode_deltas``).
"""

import numpy as np


def anchor_shapes(ratios, scales=(8.0,), base_size=8):
  """Widths and heights of the anchors of one cell.

  ``ws = round(sqrt(base_size**2 / r))``, ``hs = round(ws * r)``, both times
  ``scale`` (rounding half to even, as Python's ``round`` and NumPy do).

  Args:
    ratios: aspect ratios h / w.
    scales: anchor scales; anchors are ordered ratio-major.
    base_size: the feature stride the shapes are built from.

  Returns:
    [A, 2] float32 (w, h) in pixels, A = len(ratios) * len(scales).
  """
  shapes = []
  area = float(base_size) ** 2
  for r in ratios:
    ws = np.round(np.sqrt(area / r))
    hs = np.round(ws * r)
    for s in scales:
      shapes.append((ws * s, hs * s))
  return np.asarray(shapes, np.float32)


def anchor_centers(score_size, stride=8, offset=63.5):
  """[score_size] centre coordinates ``offset + stride * k`` (crop pixels)."""
  return (offset + stride * np.arange(score_size)).astype(np.float32)


def generate_anchors(score_size, ratios, scales=(8.0,), base_size=8, stride=8, offset=63.5,
                     plus_one=False):
  """All anchors of a score map.

  Args:
    score_size: side of the square score map (19 for a 271 search crop).
    ratios, scales, base_size: see :func:`anchor_shapes`.
    stride: pixels between neighbouring cells.
    offset: centre of cell (0, 0) in crop pixels.
    plus_one: the release's boxes (module docstring): sides one pixel shorter.

  Returns:
    [score_size, score_size, A, 4] float32 cx, cy, w, h in search-crop pixels,
    indexed ``[y, x, anchor]`` like the score map ``[H, W, A]``.
  """
  shapes = anchor_shapes(ratios, scales, base_size) - (1.0 if plus_one else 0.0)
  c = anchor_centers(score_size, stride, offset)
  num = shapes.shape[0]
  cy, cx = np.meshgrid(c, c, indexing='ij')
  out = np.empty((score_size, score_size, num, 4), np.float32)
  out[..., 0] = cx[..., None]
  out[..., 1] = cy[..., None]
  out[..., 2] = shapes[:, 0]
  out[..., 3] = shapes[:, 1]
  return out
