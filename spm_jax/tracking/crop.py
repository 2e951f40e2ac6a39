"""SiamFC-style crops around a target, on the host with OpenCV.

The context rule of SiamFC: with ``p = context (w + h)``, the template side is
``s_z = sqrt((w + p) (h + p))`` frame pixels, resized to ``template_size``; the
search region keeps the same scale and is ``s_z * search_size / template_size``
frame pixels wide. Parts outside the frame are filled with the frame's mean
colour (as the release and SiamFC do).
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
