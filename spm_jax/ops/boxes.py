"""Box conventions, IoU and the regression-delta transform.

Coordinates are continuous pixels: pixel ``i`` covers ``[i, i + 1)``, so a box
``x1, y1, x2, y2`` has width ``x2 - x1`` (no "+1") and centre ``(x1 + x2) / 2``.
The authors' release measures boxes the Detectron way instead ("+1": width
``x2 - x1 + 1``, centre ``x1 + width / 2``); functions that must reproduce it
take ``plus_one=True`` (config ``model.box_plus_one``, docs/release_procedure.md).
Three layouts are used across the project:

* ``xyxy``   -- ``x1, y1, x2, y2`` (corners),
* ``cxcywh`` -- ``cx, cy, w, h`` (centre and size),
* ``xywh``   -- ``x, y, w, h`` (top-left corner and size; OTB results files).

All functions work on ``[..., 4]`` arrays and are written with ``jnp`` so they
trace under ``jit``/``vmap``; they accept NumPy inputs too.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

# dw/dh are clipped at log(255 / 32) before exp(), as in the authors' release
# (siam_tracker/utils/boxes/delta_transform.py); it bounds a box's growth per step.
DELTA_CLIP = math.log(255.0 / 32.0)


def context_side(w, h, context_amount=0.5):
  """SiamFC's context side ``sqrt((w + p)(h + p))``, ``p = context_amount (w + h)``.

  The side of the square template crop around a ``w x h`` target (pixels of
  any one frame). Elementwise on scalars or arrays of matching shape: host
  (Python / NumPy) inputs are computed with NumPy in their own precision, JAX
  arrays (also under ``jit``) with ``jnp``.
  """
  xp = jnp if isinstance(w, jax.Array) or isinstance(h, jax.Array) else np
  p = context_amount * (w + h)
  return xp.sqrt((w + p) * (h + p))


def xyxy_to_cxcywh(boxes):
  """[..., 4] x1, y1, x2, y2 -> [..., 4] cx, cy, w, h (pixels)."""
  x1, y1, x2, y2 = jnp.moveaxis(jnp.asarray(boxes), -1, 0)
  return jnp.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=-1)


def cxcywh_to_xyxy(boxes):
  """[..., 4] cx, cy, w, h -> [..., 4] x1, y1, x2, y2 (pixels)."""
  cx, cy, w, h = jnp.moveaxis(jnp.asarray(boxes), -1, 0)
  return jnp.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1)


def xywh_to_cxcywh(boxes):
  """[..., 4] x, y, w, h (top-left corner) -> [..., 4] cx, cy, w, h."""
  x, y, w, h = jnp.moveaxis(jnp.asarray(boxes), -1, 0)
  return jnp.stack([x + w / 2, y + h / 2, w, h], axis=-1)


def cxcywh_to_xywh(boxes):
  """[..., 4] cx, cy, w, h -> [..., 4] x, y, w, h (top-left corner)."""
  cx, cy, w, h = jnp.moveaxis(jnp.asarray(boxes), -1, 0)
  return jnp.stack([cx - w / 2, cy - h / 2, w, h], axis=-1)


def box_area(boxes):
  """[..., 4] x1, y1, x2, y2 -> [...] area; boxes with x2 < x1 count as 0."""
  boxes = jnp.asarray(boxes)
  w = jnp.maximum(boxes[..., 2] - boxes[..., 0], 0.0)
  h = jnp.maximum(boxes[..., 3] - boxes[..., 1], 0.0)
  return w * h


def pairwise_iou(boxes_a, boxes_b, plus_one=False):
  """IoU of every pair.

  Args:
    boxes_a: [N, 4] x1, y1, x2, y2.
    boxes_b: [M, 4] x1, y1, x2, y2, same frame as ``boxes_a``.
    plus_one: see :func:`iou`.

  Returns:
    [N, M] IoU; 0 where the union is empty.
  """
  return iou(jnp.asarray(boxes_a)[:, None, :], jnp.asarray(boxes_b)[None, :, :], plus_one)


def iou(boxes_a, boxes_b, plus_one=False):
  """Element-wise IoU of ``[..., 4]`` x1, y1, x2, y2 boxes that broadcast.

  ``plus_one``: widths and heights are ``x2 - x1 + 1`` (Detectron's
  ``bbox_overlaps``, the release's near-candidate test); the +1 is one pixel of
  the boxes' frame, so the result depends on that frame's scale.
  """
  a, b = jnp.asarray(boxes_a), jnp.asarray(boxes_b)
  one = 1.0 if plus_one else 0.0
  iw = jnp.maximum(jnp.minimum(a[..., 2], b[..., 2]) - jnp.maximum(a[..., 0], b[..., 0]) + one, 0.0)
  ih = jnp.maximum(jnp.minimum(a[..., 3], b[..., 3]) - jnp.maximum(a[..., 1], b[..., 1]) + one, 0.0)
  inter = iw * ih
  area = lambda x: (jnp.maximum(x[..., 2] - x[..., 0] + one, 0.0)
                    * jnp.maximum(x[..., 3] - x[..., 1] + one, 0.0))
  union = area(a) + area(b) - inter
  return jnp.where(union > 0, inter / jnp.where(union > 0, union, 1.0), 0.0)


def encode_deltas(reference, target, weights=(1.0, 1.0, 1.0, 1.0)):
  """Regression targets of ``target`` relative to ``reference`` (R-CNN form).

  ``dx = wx (tcx - rcx) / rw``, ``dy = wy (tcy - rcy) / rh``,
  ``dw = ww log(tw / rw)``, ``dh = wh log(th / rh)``.

  Args:
    reference: [..., 4] cx, cy, w, h (anchors or proposals), w, h > 0.
    target: [..., 4] cx, cy, w, h in the same pixel frame.
    weights: per-coordinate multipliers (the FM stage uses 5, 5, 10, 10).

  Returns:
    [..., 4] deltas dx, dy, dw, dh.
  """
  r, t = jnp.asarray(reference), jnp.asarray(target)
  wx, wy, ww, wh = weights
  tw = jnp.maximum(t[..., 2], 1e-3)
  th = jnp.maximum(t[..., 3], 1e-3)
  return jnp.stack([
      wx * (t[..., 0] - r[..., 0]) / r[..., 2],
      wy * (t[..., 1] - r[..., 1]) / r[..., 3],
      ww * jnp.log(tw / r[..., 2]),
      wh * jnp.log(th / r[..., 3]),
  ], axis=-1)


def decode_deltas(reference, deltas, weights=(1.0, 1.0, 1.0, 1.0), clip=DELTA_CLIP,
                  plus_one=False):
  """Inverse of :func:`encode_deltas`: apply ``deltas`` to ``reference``.

  Args:
    reference: [..., 4] cx, cy, w, h.
    deltas: [..., 4] dx, dy, dw, dh (scaled by ``weights``).
    weights: per-coordinate multipliers the deltas were encoded with.
    clip: dw, dh are clipped to [-clip, clip] before exp(); NaN becomes 0.
    plus_one: the release's ``bbox_transform``: the reference is read as
      width ``w + 1`` centred at ``cx + 0.5`` (its x1 + (x2 - x1 + 1) / 2) and
      dw, dh are clipped from above only (NaN becomes ``clip``); the decoded
      box spans ``cx' -+ w' / 2`` as without it. NaN and inf become ``clip``.

  Returns:
    [..., 4] cx, cy, w, h in the frame of ``reference``.
  """
  r, d = jnp.asarray(reference), jnp.asarray(deltas)
  wx, wy, ww, wh = weights
  if plus_one:
    r = r + jnp.asarray([0.5, 0.5, 1.0, 1.0], r.dtype)
    bad = dict(nan=clip, posinf=clip, neginf=clip)
    dw = jnp.minimum(jnp.nan_to_num(d[..., 2] / ww, **bad), clip)
    dh = jnp.minimum(jnp.nan_to_num(d[..., 3] / wh, **bad), clip)
  else:
    dw = jnp.clip(jnp.nan_to_num(d[..., 2] / ww), -clip, clip)
    dh = jnp.clip(jnp.nan_to_num(d[..., 3] / wh), -clip, clip)
  return jnp.stack([
      r[..., 0] + d[..., 0] / wx * r[..., 2],
      r[..., 1] + d[..., 1] / wy * r[..., 3],
      r[..., 2] * jnp.exp(dw),
      r[..., 3] * jnp.exp(dh),
  ], axis=-1)
