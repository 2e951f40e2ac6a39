"""How far the tracking step corrects a wrong box size: a check of the box regression.

A tracker's box size is only as good as its regression's answer to a size that
is off. Here, as in the recall protocol (:mod:`spm_jax.analysis.recall`),
each frame's search region is centred on the previous frame's ground truth,
but the tracked size is set to the previous ground-truth size times a factor
``f``; the step's own estimate for the frame (``Tracker.last_outputs
['estimate']``, the chosen box before the size update smooths it) is then
compared with the frame's ground truth. Sizes are compared as the log of
``sqrt(w * h)``:

* a regression that reads the size from the image returns the ground truth
  whatever ``f``: error 0;
* one that only repeats the size it was given returns ``f`` times the previous
  size: error about ``log f``.

The *correction* is ``1 - median error / log f``: 1 for a perfect regression,
0 for one that ignores the image. With ``f = 1`` the median error is the
regression's bias. A weak correction with a bias makes a tracker's box drift:
each frame moves the size by ``size_lr x score`` towards an estimate that
keeps most of the current error and adds the bias (docs/results.md,
"Box sizes").

Box convention: x, y, w, h with the top-left corner; ``seq.gt`` in the
dataset's numbers, the tracker in 0-based image pixels (shifted as in
``ope.track_sequence``); sizes do not depend on the shift.
"""

import numpy as np

from spm_jax.evaluation import metrics


def gt_guided_size_errors(tracker, seq, factor):
  """Per frame, log(estimated size / true size) with the search region on the previous GT.

  Args:
    tracker: a :class:`spm_jax.tracking.Tracker` (or an object with ``init``,
      ``set_box``, ``update`` and ``last_outputs['estimate']``, [4] x, y, w, h
      0-based image pixels).
    seq: ``datasets.Sequence``; ``seq.gt`` [T, 4] x, y, w, h (NaN rows: no
      annotation).
    factor: the previous ground-truth box's width and height are multiplied
      by it (about the centre) before each frame; > 0.

  Returns:
    [T] float64: ``log(sqrt(w_est h_est) / sqrt(w_gt h_gt))``; NaN on frame 0
    and where the frame or the previous frame has no usable ground truth.
  """
  if not factor > 0:
    raise ValueError(f'factor must be > 0, got {factor}')
  gt = np.asarray(seq.gt, np.float64)
  scored = metrics.valid_frames(gt) & np.all(gt[:, 2:] > 0, axis=1)  # NaN > 0 is False
  errors = np.full(len(gt), np.nan)
  for t, frame in enumerate(seq.iter_frames()):
    if t == 0:
      tracker.init(frame, tuple(seq.to_image(np.asarray(seq.init_box, np.float64))))
      continue
    if not (scored[t] and scored[t - 1]):
      continue
    x, y, w, h = gt[t - 1]
    cx, cy, w, h = x + w / 2, y + h / 2, w * factor, h * factor
    tracker.set_box(seq.to_image(np.array([cx - w / 2, cy - h / 2, w, h])))
    tracker.update(frame)
    est = np.asarray(tracker.last_outputs['estimate'], np.float64)
    errors[t] = 0.5 * np.log(est[2] * est[3] / (gt[t, 2] * gt[t, 3]))
  return errors


def size_response(errors, factor):
  """Summary of :func:`gt_guided_size_errors` over frames (and sequences) for one factor.

  Args:
    errors: [T] or a list of [T_i] log size errors (NaN frames ignored).
    factor: the factor they were measured with.

  Returns:
    dict ``factor``, ``frames`` (scored), ``median_error`` (log units; for
    ``factor == 1`` the bias), ``uncorrected`` (``log factor``, what a
    regression ignoring the image would give) and ``correction``
    (``1 - median_error / log factor``; NaN for ``factor == 1``).
  """
  if isinstance(errors, (list, tuple)):
    errors = np.concatenate([np.ravel(np.asarray(e, np.float64)) for e in errors])
  errors = np.asarray(errors, np.float64)
  errors = errors[np.isfinite(errors)]
  if not errors.size:
    raise ValueError('no scored frames')
  median = float(np.median(errors))
  uncorrected = float(np.log(factor))
  correction = float('nan') if factor == 1 else 1.0 - median / uncorrected
  return {'factor': float(factor), 'frames': int(errors.size), 'median_error': median,
          'uncorrected': uncorrected, 'correction': correction}
