"""One-pass evaluation (OPE) metrics: success, precision, normalized precision.

Host-side NumPy code (float64). Boxes are ``[N, 4]`` arrays of ``x, y, w, h`` in
pixels, ``x, y`` the 0-based top-left corner; row ``i`` is frame ``i``.

Definitions (they follow the got10k toolkit, ``got10k.experiments.ExperimentOTB``
and its LaSOT experiment; see ``docs/evaluation.md``):

* IoU of two boxes is ``area(A & B) / area(A | B)`` with areas ``w * h`` -- no
  "+1" pixel (pytracking adds +1 and gets slightly different numbers). A zero
  union gives IoU 0.
* Success curve: at each threshold ``t`` of ``linspace(0, 1, 21)`` the share of
  frames with ``IoU > t`` (strictly greater). Success AUC is the mean of the 21
  points (the "AUC" of OTB plots).
* Precision curve: at each threshold ``t`` in ``0, 1, ..., 50`` pixels the share
  of frames whose centre distance is ``<= t``; ``precision_at`` reads it at 20 px.
* Normalized precision: the centre offset divided per axis by the ground-truth
  ``w`` and ``h`` (floored at 1 pixel), thresholds ``linspace(0, 0.5, 51)``.
  got10k reports the mean of that curve (``mode='auc'``, the default); pysot and
  pytracking report the value at 0.2 (``mode='at'``).
* First frame: the tracker is initialised with the ground truth, so the first
  predicted box is replaced by the ground truth before scoring
  (``first_frame='gt'``, got10k). ``'keep'`` scores the box as given, ``'drop'``
  leaves frame 0 out.
* Missing ground truth: rows of ``gt`` with a NaN (or inf) are skipped -- left
  out of numerator and denominator -- as the got10k LaSOT experiment does. A NaN
  prediction on a valid frame counts as a failure.
"""

import numpy as np

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)  # IoU thresholds (got10k: 21 bins).
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)  # centre error, pixels.
NORM_PRECISION_THRESHOLDS = np.linspace(0.0, 0.5, 51)  # normalized centre error.
FIRST_FRAME_MODES = ('gt', 'keep', 'drop')


def _as_boxes(boxes, name):
  boxes = np.asarray(boxes, dtype=np.float64)
  if boxes.ndim == 1:
    boxes = boxes[None]
  if boxes.ndim != 2 or boxes.shape[1] != 4:
    raise ValueError(f'{name} must be [N, 4] x, y, w, h; got shape {boxes.shape}')
  return boxes


def iou(pred, gt):
  """IoU of matching rows, no "+1" pixel.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h.

  Returns:
    [N] float64 in [0, 1]; NaN where either box has a NaN.
  """
  pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
  iw = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2]) - np.maximum(
      pred[:, 0], gt[:, 0])
  ih = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3]) - np.maximum(
      pred[:, 1], gt[:, 1])
  inter = np.maximum(iw, 0.0) * np.maximum(ih, 0.0)
  union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter
  with np.errstate(invalid='ignore', divide='ignore'):
    out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
  out = np.where(np.isnan(union), np.nan, out)
  return np.clip(out, 0.0, 1.0)


def center_error(pred, gt):
  """Euclidean distance between box centres, in pixels.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h.

  Returns:
    [N] float64.
  """
  pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
  d = (pred[:, :2] + pred[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2)
  return np.sqrt(np.sum(d * d, axis=1))


def normalized_center_error(pred, gt):
  """Centre offset divided per axis by the ground-truth size (floored at 1).

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h.

  Returns:
    [N] float64, ``||(dx / max(w_gt, 1), dy / max(h_gt, 1))||``.
  """
  pred, gt = _as_boxes(pred, 'pred'), _as_boxes(gt, 'gt')
  d = (pred[:, :2] + pred[:, 2:] / 2) - (gt[:, :2] + gt[:, 2:] / 2)
  d = d / np.maximum(gt[:, 2:], 1.0)
  return np.sqrt(np.sum(d * d, axis=1))


def valid_frames(gt):
  """[N] bool: frames whose ground truth is present (all four values finite).

  Args:
    gt: [N, 4] x, y, w, h (pixels); NaN rows mark missing annotations.
  """
  return np.all(np.isfinite(_as_boxes(gt, 'gt')), axis=1)


def prepare(pred, gt, first_frame='gt'):
  """Aligns ``pred`` with ``gt`` the way the curves below score them.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; rows with NaN are missing annotations.
    first_frame: 'gt' (frame 0 predicted box := ground truth, got10k), 'keep'
      or 'drop' (frame 0 not scored).

  Returns:
    (pred, gt): [M, 4] float64 each, the scored frames only (M <= N).
  """
  pred, gt = _as_boxes(pred, 'pred').copy(), _as_boxes(gt, 'gt')
  if len(pred) != len(gt):
    raise ValueError(f'pred has {len(pred)} boxes but gt has {len(gt)}')
  if first_frame not in FIRST_FRAME_MODES:
    raise ValueError(f'first_frame must be one of {FIRST_FRAME_MODES}')
  keep = valid_frames(gt)
  if len(gt):
    if first_frame == 'gt':
      pred[0] = gt[0]
    elif first_frame == 'drop':
      keep[0] = False
  return pred[keep], gt[keep]


def _share(hit):
  """[M, T] bool -> [T] share of rows; an empty sequence scores 0."""
  if hit.shape[0] == 0:
    return np.zeros(hit.shape[1])
  return hit.mean(axis=0)


def success_curve(pred, gt, thresholds=SUCCESS_THRESHOLDS, first_frame='gt'):
  """Share of frames with IoU > t for each threshold t.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    thresholds: [T] IoU thresholds (default 21 points from 0 to 1).
    first_frame: see ``prepare``.

  Returns:
    [T] float64.
  """
  pred, gt = prepare(pred, gt, first_frame)
  o = iou(pred, gt)
  with np.errstate(invalid='ignore'):
    return _share(o[:, None] > np.asarray(thresholds)[None])


def success_auc(pred, gt, first_frame='gt'):
  """Mean of the 21-point success curve (OTB "AUC"), a float in [0, 1].

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    first_frame: see ``prepare``.
  """
  return float(np.mean(success_curve(pred, gt, first_frame=first_frame)))


def precision_curve(pred, gt, thresholds=PRECISION_THRESHOLDS, first_frame='gt'):
  """Share of frames with centre error <= t pixels for each threshold t.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    thresholds: [T] pixel thresholds (default 0, 1, ..., 50).
    first_frame: see ``prepare``.

  Returns:
    [T] float64.
  """
  return _error_curve(center_error, pred, gt, thresholds, first_frame)


def precision_at(pred, gt, threshold=20, first_frame='gt'):
  """Share of frames with centre error <= ``threshold`` pixels (OTB: 20).

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    threshold: pixels.
    first_frame: see ``prepare``.
  """
  curve = precision_curve(pred, gt, thresholds=np.array([threshold], float),
                          first_frame=first_frame)
  return float(curve[0])


def normalized_precision_curve(pred, gt, thresholds=NORM_PRECISION_THRESHOLDS,
                               first_frame='gt'):
  """Share of frames with normalized centre error <= t for each threshold t.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    thresholds: [T] (default 51 points from 0 to 0.5).
    first_frame: see ``prepare``.

  Returns:
    [T] float64.
  """
  return _error_curve(normalized_center_error, pred, gt, thresholds, first_frame)


def _error_curve(error_fn, pred, gt, thresholds, first_frame):
  """Share of frames whose ``error_fn(pred, gt)`` is <= t, for each threshold t."""
  pred, gt = prepare(pred, gt, first_frame)
  e = error_fn(pred, gt)
  with np.errstate(invalid='ignore'):
    return _share(e[:, None] <= np.asarray(thresholds)[None])


def normalized_precision(pred, gt, mode='auc', threshold=0.2, first_frame='gt'):
  """Normalized precision (LaSOT / TrackingNet).

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    mode: 'auc' -- mean of the 51-point curve on [0, 0.5] (got10k toolkit);
      'at' -- the share of frames with normalized error <= ``threshold``
      (pysot, pytracking: 0.2).
    threshold: used by mode 'at'.
    first_frame: see ``prepare``.

  Returns:
    float in [0, 1].
  """
  if mode == 'auc':
    return float(np.mean(normalized_precision_curve(pred, gt,
                                                    first_frame=first_frame)))
  if mode == 'at':
    curve = normalized_precision_curve(
        pred, gt, thresholds=np.array([threshold], float),
        first_frame=first_frame)
    return float(curve[0])
  raise ValueError(f"mode must be 'auc' or 'at', got {mode!r}")


def average_overlap(pred, gt, first_frame='gt'):
  """GOT-10k AO: mean IoU over the scored frames.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    first_frame: see ``prepare``. (The GOT-10k toolkit drops frame 0: 'drop'.)
  """
  pred, gt = prepare(pred, gt, first_frame)
  o = np.nan_to_num(iou(pred, gt), nan=0.0)
  return float(o.mean()) if len(o) else 0.0


def success_rate(pred, gt, threshold=0.5, first_frame='gt'):
  """GOT-10k SR_t: share of scored frames with IoU > ``threshold``.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    threshold: IoU threshold (GOT-10k reports 0.5 and 0.75).
    first_frame: see ``prepare``.
  """
  curve = success_curve(pred, gt, thresholds=np.array([threshold], float),
                        first_frame=first_frame)
  return float(curve[0])


def summarize(pred, gt, first_frame='gt'):
  """All per-sequence OPE numbers and curves in one dict.

  Args:
    pred: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
    gt: [N, 4] x, y, w, h; NaN rows are skipped.
    first_frame: see ``prepare``.

  Returns:
    dict with 'success_curve' [21], 'precision_curve' [51],
    'norm_precision_curve' [51] and the scalars 'success_auc', 'precision_20',
    'norm_precision_auc', 'norm_precision_020'.
  """
  succ = success_curve(pred, gt, first_frame=first_frame)
  prec = precision_curve(pred, gt, first_frame=first_frame)
  nprec = normalized_precision_curve(pred, gt, first_frame=first_frame)
  return dict(
      success_curve=succ, precision_curve=prec, norm_precision_curve=nprec,
      success_auc=float(succ.mean()), precision_20=float(prec[20]),
      norm_precision_auc=float(nprec.mean()),
      norm_precision_020=float(nprec[20]))
