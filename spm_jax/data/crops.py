"""SiamFC context crops with the SiamRPN / DaSiamRPN augmentations.

Geometry (continuous pixels, pixel ``i`` covers ``[i, i + 1)``): an object
``cx, cy, w, h`` gets the context ``p = context_amount * (w + h)`` and the
template side ``s_z = sqrt((w + p) (h + p))`` (``p = (w + h) / 2`` for the
default 0.5); the template crop maps ``s_z`` to ``template_size`` (127) and the
search crop maps ``s_x = s_z * search_size / template_size`` to ``search_size``
(271), both centred on the object. So the object has the same size in both
crops and lies at the crop centre ``size / 2`` before augmentation.

Augmentations, drawn per crop: the window is scaled by ``1 + U(-scale, scale)``
(pysot; or by ``exp(U(-log(1 + scale), log(1 + scale)))`` with ``log_scale``)
independently in x and y (aspect jitter) and the object shifted by
``U(-shift, shift)`` output pixels; then PCA colour noise, Gaussian blur,
grayscale and a horizontal flip, each with its probability. Outside the image
the crop is filled with the image's channel mean.
"""

import dataclasses

import cv2
import numpy as np

from spm_jax.data import image_io

# AlexNet PCA lighting of ImageNet RGB (Krizhevsky et al. 2012), on 0..255 pixels.
_EIG_VAL = np.array([0.2175, 0.0188, 0.0045], np.float32) * 255.0
_EIG_VEC = np.array([[-0.5675, 0.7192, 0.4009],
                     [-0.5808, -0.0045, -0.8140],
                     [-0.5836, -0.6948, 0.4203]], np.float32)


@dataclasses.dataclass(frozen=True)
class CropFrame:
  """Where a crop sits in its source image.

  ``u_crop = (u_image - cx) * size / side_x + size / 2`` (and y likewise), then
  ``u_crop -> size - u_crop`` when ``flip``.
  """
  cx: float
  cy: float
  side_x: float
  side_y: float
  size: int
  flip: bool = False

  def boxes_to_crop(self, boxes):
    """[N, 4] x1, y1, x2, y2 image pixels -> [N, 4] x1, y1, x2, y2 crop pixels."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    sx, sy = self.size / self.side_x, self.size / self.side_y
    out = np.stack([(b[:, 0] - self.cx) * sx, (b[:, 1] - self.cy) * sy,
                    (b[:, 2] - self.cx) * sx, (b[:, 3] - self.cy) * sy], -1) + self.size / 2
    if self.flip:
      out = np.stack([self.size - out[:, 2], out[:, 1], self.size - out[:, 0], out[:, 3]], -1)
    return out.astype(np.float32)

  def affine(self):
    """[2, 3] cv2 matrix mapping image pixel indices to crop pixel indices."""
    sx, sy = self.size / self.side_x, self.size / self.side_y
    # Continuous u_out = s (u_in - c) + size / 2 with pixel centres at i + 0.5.
    m = np.array([[sx, 0, sx * (0.5 - self.cx) + self.size / 2 - 0.5],
                  [0, sy, sy * (0.5 - self.cy) + self.size / 2 - 0.5]], np.float64)
    if self.flip:
      m[0] = -m[0]
      m[0, 2] += self.size - 1
    return m


def crop_frame(box_cxcywh, size, side, rng=None, shift=0.0, scale=0.0, flip=0.0,
               log_scale=False):
  """The (augmented) :class:`CropFrame` of an object.

  Args:
    box_cxcywh: [4] cx, cy, w, h of the object in image pixels.
    size: output side in pixels (127 or 271).
    side: window side in image pixels before augmentation.
    rng: numpy Generator; None means no augmentation.
    shift: largest object displacement from the crop centre, output pixels.
    scale: largest relative change of the window side (per axis).
    flip: probability of a horizontal flip.
    log_scale: draw the side's factor uniformly in log space, between
      ``1 / (1 + scale)`` and ``1 + scale``, instead of uniformly between
      ``1 - scale`` and ``1 + scale``. The object's size in the crop is the
      inverse of that factor, so the linear draw makes it larger than
      nominal on average (``E[-log(1 + u)] ~ scale^2 / 6``: +0.5 % at 0.18);
      the log draw has no such skew (it did not remove the trained trackers'
      size bias, though: docs/results.md, "How the settings were chosen").
  """
  cx, cy = float(box_cxcywh[0]), float(box_cxcywh[1])
  side_x = side_y = float(side)
  do_flip = False
  if rng is not None:
    if log_scale:
      bound = np.log1p(scale)
      side_x *= float(np.exp(rng.uniform(-bound, bound)))
      side_y *= float(np.exp(rng.uniform(-bound, bound)))
    else:
      side_x *= 1.0 + rng.uniform(-scale, scale)
      side_y *= 1.0 + rng.uniform(-scale, scale)
    dx, dy = rng.uniform(-shift, shift, 2)
    # The object lands at size / 2 + (dx, dy): move the window the other way.
    cx -= dx * side_x / size
    cy -= dy * side_y / size
    do_flip = bool(rng.uniform() < flip)
  return CropFrame(cx, cy, side_x, side_y, int(size), do_flip)


def warp(image, frame, pad=None):
  """[H, W, 3] uint8 image -> [size, size, 3] uint8 crop; outside filled with ``pad``
  (default: the image's per-channel mean)."""
  if pad is None:
    pad = image_io.frame_mean(image)
  return cv2.warpAffine(image, frame.affine(), (frame.size, frame.size), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=tuple(float(v) for v in pad))


def photometric(crop, rng, color=0.0, blur=0.0, gray=0.0, color_std=0.1):
  """Colour (PCA lighting), blur and grayscale, each with its probability.

  Args:
    crop: [S, S, 3] uint8 RGB.
    rng: numpy Generator.
    color, blur, gray: probabilities.
    color_std: std of the PCA lighting coefficients.

  Returns:
    [S, S, 3] uint8 RGB.
  """
  out = crop
  if rng.uniform() < color:
    offset = _EIG_VEC @ (rng.normal(0, color_std, 3).astype(np.float32) * _EIG_VAL)
    out = np.clip(out.astype(np.float32) + offset, 0, 255).astype(np.uint8)
  if rng.uniform() < blur:
    sigma = rng.uniform(0.5, 1.5)
    out = cv2.GaussianBlur(out, (0, 0), sigma)
  if rng.uniform() < gray:
    g = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)
    out = np.repeat(g[..., None], 3, axis=-1)
  return out


def make_crop(image, box_xywh, size, side, rng=None, aug=None, pad=None):
  """Crops and augments one image around one object.

  Args:
    image: [H, W, 3] uint8 RGB.
    box_xywh: [4] x, y, w, h of the object the crop follows (image pixels).
    size: output side.
    side: window side before augmentation (``spm_jax.ops.boxes.context_side``
      for a template, times ``search_size / template_size`` for a search image).
    rng: numpy Generator, or None for no augmentation.
    aug: mapping with ``shift, scale, flip, color, blur, gray`` (and optional
      ``color_std``, ``log_scale``); ignored when ``rng`` is None.
    pad: fill value, default the image's channel mean.

  Returns:
    ``(crop, frame)``: [size, size, 3] uint8 RGB and its :class:`CropFrame`.
  """
  x, y, w, h = (float(v) for v in box_xywh)
  box = (x + w / 2, y + h / 2, w, h)
  if rng is None or aug is None:
    frame = crop_frame(box, size, side)
    return warp(image, frame, pad), frame
  frame = crop_frame(box, size, side, rng, aug['shift'], aug['scale'], aug['flip'],
                     aug.get('log_scale', False))
  crop = photometric(warp(image, frame, pad), rng, aug['color'], aug['blur'], aug['gray'],
                     aug.get('color_std', 0.1))
  return crop, frame
