"""RoI Align and crop-and-resize as separable interpolation matmuls.

Bilinear interpolation factors into a weight on rows times a weight on
columns, and both ops average (or take) samples on a regular grid, so each box
``k`` becomes two small matrices ``Wy[k]`` [oh, H] and ``Wx[k]`` [ow, W] with
``out[k] = Wy[k] @ F @ Wx[k]^T`` (per channel). The zero/clamp rules of the
pointwise definitions depend on one coordinate each and fold into the
matrices, so the result equals the pointwise definition exactly, with no
gathers: the ops jit, vmap and differentiate w.r.t. features and boxes.

Boxes are ``x1, y1, x2, y2`` in continuous input-image pixels (see
``spm_jax/ops/boxes.py``); ``spatial_scale`` maps them onto the feature map,
where sample position ``i`` is feature pixel ``i`` (torchvision's
``aligned=True`` first shifts by half a pixel so pixel centres line up).
"""

import jax
import jax.numpy as jnp
import numpy as np


def _interp_matrix(pos, valid, size):
  """Bilinear weights of 1-D sample positions, averaged over samples.

  A position is clamped to ``[0, size - 1]`` and splits its weight between the
  two neighbouring integers (the "hat" ``max(0, 1 - |p - i|)``); invalid
  samples weigh nothing.

  Args:
    pos: [K, n, s] positions (feature pixels) of ``s`` samples per output cell.
    valid: [K, n, s] bool, samples that contribute.
    size: static length of the feature axis.

  Returns:
    [K, n, size] weights; row ``j`` is the mean of its ``s`` samples' weights.
  """
  p = jnp.clip(pos, 0, size - 1)[..., None]
  w = jnp.maximum(1.0 - jnp.abs(p - jnp.arange(size, dtype=p.dtype)), 0.0)
  return jnp.mean(jnp.where(valid[..., None], w, 0.0), axis=-2)


def _apply(features, wy, wx):
  """[H, W, C] features, [K, oh, H] and [K, ow, W] weights -> [K, oh, ow, C]."""
  h, w = features.shape[:2]
  oh, ow = wy.shape[1], wx.shape[1]
  wy, wx = wy.astype(features.dtype), wx.astype(features.dtype)
  hi = jax.lax.Precision.HIGHEST  # no TF32 on GPU: weights need full precision.
  # Fewest FLOPs first; on a tie contract H, the leading axis (a plain GEMM
  # with no transpose of the map, ~30% faster on CPU).
  if oh * w * (h + ow) <= ow * h * (w + oh):
    t = jnp.einsum('kyh,hwc->kywc', wy, features, precision=hi)
    return jnp.einsum('kxw,kywc->kyxc', wx, t, precision=hi)
  t = jnp.einsum('kxw,hwc->khxc', wx, features, precision=hi)
  return jnp.einsum('kyh,khxc->kyxc', wy, t, precision=hi)


def _split(boxes, spatial_scale, offset):
  """[K, 4] x1, y1, x2, y2 pixels -> four [K, 1, 1] feature coordinates."""
  b = jnp.asarray(boxes) * spatial_scale - offset
  if not jnp.issubdtype(b.dtype, jnp.floating):
    b = b.astype(jnp.float32)
  return [c[:, None, None] for c in jnp.moveaxis(b, -1, 0)]


def roi_align(features, boxes, output_size=(6, 6), spatial_scale=1 / 8,
              sampling_ratio=2, aligned=True):
  """RoI Align with torchvision's ``roi_align`` numerics.

  Each output cell averages ``sampling_ratio ** 2`` bilinear samples on a
  regular grid inside its bin. A sample with ``y < -1``, ``y > H``, ``x < -1``
  or ``x > W`` counts as 0; otherwise its coordinates are clamped to
  ``[0, H - 1]`` / ``[0, W - 1]``.

  Args:
    features: [H, W, C] float feature map.
    boxes: [K, 4] x1, y1, x2, y2 in input-image pixels (continuous).
    output_size: static ``(oh, ow)``.
    spatial_scale: feature pixels per input pixel (1 / stride).
    sampling_ratio: static samples per bin side, > 0 (torchvision's adaptive
      mode, ``<= 0``, is not supported).
    aligned: subtract half a feature pixel after scaling (torchvision
      ``aligned=True``); if False, RoI sides are clamped to >= 1 instead.

  Returns:
    [K, oh, ow, C] pooled features, dtype of ``features``.
  """
  if not isinstance(sampling_ratio, (int, np.integer)) or sampling_ratio <= 0:
    raise ValueError(f'sampling_ratio must be a positive int, got {sampling_ratio!r}')
  features = jnp.asarray(features)
  x1, y1, x2, y2 = _split(boxes, spatial_scale, 0.5 if aligned else 0.0)
  grid = (np.arange(sampling_ratio) + 0.5) / sampling_ratio  # [s]

  def axis_weights(start, end, n, size):
    length = end - start if aligned else jnp.maximum(end - start, 1.0)
    frac = jnp.asarray(np.arange(n)[:, None] + grid, start.dtype)  # [n, s] in bins
    pos = start + frac * (length / n)  # [K, n, s]
    return _interp_matrix(pos, (pos >= -1) & (pos <= size), size)

  oh, ow = output_size
  h, w = features.shape[:2]
  return _apply(features, axis_weights(y1, y2, oh, h), axis_weights(x1, x2, ow, w))


def crop_and_resize(features, boxes, output_size=(6, 6), spatial_scale=1 / 8):
  """Corner-aligned bilinear crop, TensorFlow ``crop_and_resize`` numerics.

  The SPM-Tracker release pools with a port of TF's op: one sample per output
  cell, the first and last samples on the box corners (no half-pixel offset),
  and samples outside ``[0, H - 1]`` / ``[0, W - 1]`` give 0.

  Args:
    features: [H, W, C] float feature map.
    boxes: [K, 4] x1, y1, x2, y2 in input-image pixels; times
      ``spatial_scale`` they are feature-pixel coordinates.
    output_size: static ``(oh, ow)``; a side of 1 samples the box centre.
    spatial_scale: feature pixels per input pixel (1 / stride).

  Returns:
    [K, oh, ow, C] crops, dtype of ``features``.
  """
  features = jnp.asarray(features)
  x1, y1, x2, y2 = _split(boxes, spatial_scale, 0.0)

  def axis_weights(start, end, n, size):
    if n == 1:
      pos = (start + end) / 2  # [K, 1, 1]
    else:
      step = jnp.asarray(np.arange(n)[:, None], start.dtype)  # [n, 1]
      pos = start + step * ((end - start) / (n - 1))  # [K, n, 1]
    return _interp_matrix(pos, (pos >= 0) & (pos <= size - 1), size)

  oh, ow = output_size
  h, w = features.shape[:2]
  return _apply(features, axis_weights(y1, y2, oh, h), axis_weights(x1, x2, ow, w))
