"""SiamFC-style crops around a target, on the host with OpenCV.

The context rule of SiamFC: with ``p = context (w + h)``, the template side is
``s_z = sqrt((w + p) (h + p))`` frame pixels, resized to ``template_size``; the
search region keeps the same scale and is ``s_z * search_size / template_size``
frame pixels wide. Parts outside the frame are filled with the frame's mean
colour (as the release and SiamFC do).

Two samplings of the same square (``tracking.crop_sampling``,
:mod:`spm_jax.tracking.procedure`): :func:`crop_square` (OpenCV, uint8, crop
pixel centres on frame pixel centres) and :func:`crop_square_release` (the
release's ``crop_with_boxes``: float, the crop's first and last samples on the
square's corners). Both report the same ``origin`` and ``scale``.
"""

import cv2
import numpy as np

from spm_jax.ops import boxes as box_ops


def context_side(size, context_amount):
  """Template side ``s_z`` (float, frame pixels) for a target of ``size`` (w, h).

  :func:`spm_jax.ops.boxes.context_side` in float64 on the host.
  """
  return float(box_ops.context_side(float(size[0]), float(size[1]), context_amount))


def crop_square(frame, center, side, out_size, fill):
  """Crops a square of ``side`` frame pixels centred on ``center`` and resizes it.

  Continuous coordinates: the crop spans ``[c - side / 2, c + side / 2]`` and
  maps onto ``[0, out_size]``, so ``crop = (frame - origin) * scale``.

  Args:
    frame: [H, W, 3] uint8.
    center: (cx, cy) in frame pixels.
    side: crop side in frame pixels (> 0).
    out_size: output side in pixels.
    fill: (3,) colour for the area outside the frame.

  Returns:
    crop: [out_size, out_size, 3] uint8.
    origin: (2,) float32 frame x, y of the crop's top-left corner.
    scale: float, crop pixels per frame pixel.
  """
  scale = out_size / side
  origin = np.asarray(center, np.float64) - side / 2.0
  # Pixel centres: frame index i sits at i + 0.5, crop index j at j + 0.5.
  shift = scale * (0.5 - origin) - 0.5
  matrix = np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]], np.float64)
  crop = cv2.warpAffine(frame, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT,
                        borderValue=tuple(float(v) for v in fill))
  return crop, origin.astype(np.float32), float(scale)


def crop_square_release(frame, center, side, out_size, fill):
  """:func:`crop_square` sampled as the authors' release samples it.

  The release's ``crop_with_boxes`` (a TensorFlow-style crop-and-resize): crop
  pixel ``j`` is the bilinear value of frame position ``x1 + j side /
  (out_size - 1)`` (frame pixel ``i`` at position ``i``, ``x1 = cx - side /
  2``), so the crop's first and last pixels fall on the square's corners; a
  sample outside ``[0, W - 1]`` or ``[0, H - 1]`` takes ``fill``. The values
  stay float. ``origin`` and ``scale`` are those of :func:`crop_square`
  (``scale = out_size / side``, as the release maps boxes with).

  Args:
    frame: [H, W, 3] uint8.
    center: (cx, cy) in frame pixels.
    side: crop side in frame pixels (> 0).
    out_size: output side in pixels (> 1).
    fill: (3,) colour for the samples outside the frame.

  Returns:
    crop: [out_size, out_size, 3] float32.
    origin: (2,) float32 frame x, y of the crop's top-left corner.
    scale: float, crop pixels per frame pixel.
  """
  h, w = frame.shape[:2]
  origin = np.asarray(center, np.float64) - side / 2.0
  steps = np.arange(out_size) * (side / (out_size - 1))

  def axis(start, n):
    """Sample positions -> (low index, high index, weight of high, inside)."""
    pos = start + steps
    inside = (pos >= 0) & (pos <= n - 1)
    pos = np.clip(pos, 0, n - 1)
    low = np.floor(pos).astype(np.intp)
    return low, np.minimum(low + 1, n - 1), (pos - low).astype(np.float32), inside

  x0, x1, fx, in_x = axis(origin[0], w)
  y0, y1, fy, in_y = axis(origin[1], h)
  fx = fx[None, :, None]
  rows = []
  for y in (y0, y1):
    r = frame[y]  # [S, W, 3]
    left = r[:, x0].astype(np.float32)
    rows.append(left + (r[:, x1].astype(np.float32) - left) * fx)
  crop = rows[0] + (rows[1] - rows[0]) * fy[:, None, None]
  crop[~(in_y[:, None] & in_x[None, :])] = np.asarray(fill, np.float32)
  return crop, origin.astype(np.float32), float(out_size / side)


def crop_square_by(sampling, frame, center, side, out_size, fill):
  """:func:`crop_square` (``sampling='opencv'``) or :func:`crop_square_release` ('release')."""
  if sampling == 'release':
    return crop_square_release(frame, center, side, out_size, fill)
  if sampling == 'opencv':
    return crop_square(frame, center, side, out_size, fill)
  raise ValueError(f"crop sampling must be 'release' or 'opencv', got {sampling!r}")
