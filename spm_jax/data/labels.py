"""Generalized-training labels of the CM stage (paper sec. 3.2, 4.2, fig. 3).

Our reading of the paper, used by the input pipeline:

* CM stage (anchors of the score map): an anchor is positive when its IoU
  with a *positive box* is > 0.6, negative when its IoU with every positive
  box is < 0.3, ignored otherwise. The positive boxes of a search image are
  all objects of the template's category in it ("generalized training": in a
  same-category pair the other objects of the category are positive too, and
  in a same-instance pair the same-category distractors are positive along
  with the target). Regression targets are given for positives only, towards
  the positive box of highest IoU. Objects of the template's category that are
  not visible (occluded / out of view) are neither positive nor negative:
  anchors with IoU >= 0.3 to them are ignored. With ``best_anchor`` (ours,
  the first rule of Faster R-CNN's RPN) the anchors of highest IoU with each
  positive box are positive too whatever that IoU: a box that looks much
  smaller or larger than every anchor (a search region drawn at another
  scale) still trains the regression to read its size.
* FM stage: instance-level labels. Only the template's own instance is
  positive; the pipeline passes its box (``target_box``, ``has_target``) and
  the FM labels (IoU > 0.5 with a proposal) are made in the training step
  from the proposals. A same-category pair has no target instance, so it
  gives the FM stage negatives only.
* A different-category pair is negative for both stages: the sampler picks a
  search image with no object of the template's category, so every anchor is
  negative (if it finds none in ``max_tries`` draws, the rule above still
  marks objects of the template's category positive rather than negative).

IoU and deltas are computed with NumPy here (the data pipeline runs on host
CPUs, in worker processes, away from the accelerator); they follow
:mod:`spm_jax.ops.boxes` exactly (continuous pixels, width = x2 - x1) and the
tests check them against it.
"""

import numpy as np


def cxcywh_to_xyxy(boxes):
  """[..., 4] cx, cy, w, h -> [..., 4] x1, y1, x2, y2 (NumPy)."""
  b = np.asarray(boxes, np.float64)
  return np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], -1)


def iou_matrix(a, b):
  """IoU of every pair: [N, 4] x 1, y1, x2, y2 and [M, 4] x1, y1, x2, y2 -> [N, M]."""
  a = np.asarray(a, np.float64).reshape(-1, 4)[:, None]
  b = np.asarray(b, np.float64).reshape(-1, 4)[None]
  iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
  ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
  inter = iw * ih
  area = lambda x: np.clip(x[..., 2] - x[..., 0], 0, None) * np.clip(x[..., 3] - x[..., 1], 0, None)
  union = area(a) + area(b) - inter
  return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def encode(anchors, boxes):
  """R-CNN deltas (as ``spm_jax.ops.boxes.encode_deltas``, unit weights).

  Args:
    anchors: [..., 4] cx, cy, w, h.
    boxes: [..., 4] x1, y1, x2, y2, broadcasting with ``anchors``.

  Returns:
    [..., 4] float32 dx, dy, dw, dh.
  """
  a = np.asarray(anchors, np.float64)
  b = np.asarray(boxes, np.float64)
  w = np.maximum(b[..., 2] - b[..., 0], 1e-3)
  h = np.maximum(b[..., 3] - b[..., 1], 1e-3)
  cx, cy = (b[..., 0] + b[..., 2]) / 2, (b[..., 1] + b[..., 3]) / 2
  return np.stack([(cx - a[..., 0]) / a[..., 2], (cy - a[..., 1]) / a[..., 3],
                   np.log(w / a[..., 2]), np.log(h / a[..., 3])], -1).astype(np.float32)


def cm_labels(anchors, positive_boxes, ignore_boxes=None, pos_iou=0.6, neg_iou=0.3,
              best_anchor=False):
  """Classification and regression targets of the CM stage.

  Args:
    anchors: [S, S, A, 4] cx, cy, w, h in search-crop pixels
      (``spm_jax.ops.anchors.generate_anchors``).
    positive_boxes: [K, 4] x1, y1, x2, y2 in search-crop pixels (K may be 0):
      the template's instance and, in generalized training, every visible
      object of its category.
    ignore_boxes: [J, 4] x1, y1, x2, y2 whose overlapping anchors
      (IoU >= ``neg_iou``) are ignored unless positive.
    pos_iou: IoU above which an anchor is positive (0.6).
    neg_iou: IoU below which an anchor is negative (0.3).
    best_anchor: the anchors of highest IoU (> 0) with each positive box are
      positive as well (Faster R-CNN's RPN, rule (i)), with regression
      targets towards their own best box.

  Returns:
    ``(cls, reg, reg_weight)``: [S, S, A] int8 in {1, 0, -1} (positive,
    negative, ignored); [S, S, A, 4] float32 deltas towards the best positive
    box (0 elsewhere); [S, S, A] float32, 1 at positives, 0 elsewhere.
  """
  shape = anchors.shape[:-1]
  flat = anchors.reshape(-1, 4)
  xyxy = cxcywh_to_xyxy(flat)
  cls = np.zeros(flat.shape[0], np.int8)
  reg = np.zeros((flat.shape[0], 4), np.float32)
  weight = np.zeros(flat.shape[0], np.float32)
  pos = np.asarray(positive_boxes, np.float64).reshape(-1, 4)
  if ignore_boxes is not None and len(ignore_boxes):
    cls[iou_matrix(xyxy, ignore_boxes).max(1) >= neg_iou] = -1
  if pos.shape[0]:
    iou = iou_matrix(xyxy, pos)
    best = iou.argmax(1)
    best_iou = iou[np.arange(iou.shape[0]), best]
    cls[(best_iou >= neg_iou) & (best_iou <= pos_iou)] = -1
    positive = best_iou > pos_iou
    if best_anchor:
      top = iou.max(0, keepdims=True)
      positive |= np.any((iou == top) & (top > 0), axis=1)
    cls[positive] = 1
    reg[positive] = encode(flat[positive], pos[best[positive]])
    weight[positive] = 1.0
  return cls.reshape(shape), reg.reshape(shape + (4,)), weight.reshape(shape)


def subsample(cls, weight, rng, num=48, positive_fraction=0.5):
  """Keeps at most ``num`` labelled anchors, at most ``positive_fraction`` positive.

  The release trains the CM stage on 48 anchors a pair, half foreground. The
  others become -1 (ignored) and lose their regression weight.

  Args:
    cls: [S, S, A] int8 labels; weight: [S, S, A] float32 regression weights.
    rng: numpy Generator.
    num: anchors kept; 0 keeps all.
    positive_fraction: largest share of positives.

  Returns:
    ``(cls, weight)`` with the same shapes.
  """
  if num <= 0:
    return cls, weight
  shape = cls.shape
  cls, weight = cls.copy().reshape(-1), weight.copy().reshape(-1)
  pos, neg = np.flatnonzero(cls == 1), np.flatnonzero(cls == 0)
  max_pos = int(num * positive_fraction)
  if pos.size > max_pos:
    drop = rng.choice(pos, pos.size - max_pos, replace=False)
    cls[drop], weight[drop] = -1, 0.0
  max_neg = num - min(pos.size, max_pos)
  if neg.size > max_neg:
    cls[rng.choice(neg, neg.size - max_neg, replace=False)] = -1
  return cls.reshape(shape), weight.reshape(shape)
