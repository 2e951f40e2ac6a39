"""Recall of the CM stage's candidate boxes (paper sec. 5.2, fig. 6b).

The CM stage must put the target among the K candidates it hands to the FM
stage, or the FM stage cannot recover it. The paper measures this with the
recall of the candidates: the share of frames where at least one of the K
candidate boxes overlaps the ground truth by IoU >= a threshold, with the
template from the first frame and each frame's search region centred on the
*previous frame's ground truth* (so the measure does not depend on earlier
tracking errors). It reports the curve over thresholds and the mean over
thresholds 0.5 .. 0.7 in brackets.

We reuse the tracking step itself: :class:`spm_jax.tracking.Tracker` runs the
jitted step and keeps its per-frame outputs in ``last_outputs``, of which
``proposals`` ([K, 4] x, y, w, h frame pixels) and ``valid`` ([K] bool) are
the candidates passed to the FM stage. :func:`gt_guided_candidates` sets the
tracker's state to the previous ground-truth box before each frame (the
paper's protocol) and collects those outputs; :func:`candidate_recall`
scores them.

Because the candidate selection (near candidate first, then greedy NMS in
score order) gives nested sets -- the first K of a K = 15 run are the K
candidates of a K-run, for every K <= 15 -- and the GT-guided state does not
depend on the model's choices, one pass at the largest K gives the recall of
every smaller K (``candidate_recall(..., k=K)`` reads the first K).

Box convention: x, y, w, h with the top-left corner, in the dataset's pixel
numbers (those of ``seq.gt``: 1-based for OTB); the tracker is handed and
returns 0-based image pixels, shifted as in ``ope.track_sequence``.
"""

import numpy as np

from spm_jax.evaluation import metrics

RECALL_THRESHOLDS = np.round(np.arange(0.5, 0.7001, 0.05), 2)  # fig. 6b's bracketed mean.


def gt_guided_candidates(tracker, seq):
  """Candidates of every frame with the search region at the previous ground truth.

  Args:
    tracker: a :class:`spm_jax.tracking.Tracker` (not ``cm_only``: its
      candidates are the top K by windowed score, not the FM stage's input).
    seq: ``datasets.Sequence``; ``seq.gt`` [T, 4] x, y, w, h (NaN rows: no
      annotation).

  Returns:
    proposals: [T, K, 4] x, y, w, h frame pixels in the numbers of
      ``seq.gt`` (row 0, the initial frame, is NaN); valid: [T, K] bool
      (row 0 False).
  """
  gt = np.asarray(seq.gt, np.float64)
  proposals, valid = None, None
  prev = np.asarray(seq.init_box, np.float64)
  for t, frame in enumerate(seq.iter_frames()):
    if t == 0:
      tracker.init(frame, tuple(seq.to_image(prev)))
      continue
    if np.all(np.isfinite(gt[t - 1])) and gt[t - 1, 2] > 0 and gt[t - 1, 3] > 0:
      prev = gt[t - 1]
    tracker.set_box(seq.to_image(prev))
    tracker.update(frame)
    out = tracker.last_outputs
    if proposals is None:
      k = np.asarray(out['proposals']).shape[0]
      proposals = np.full((len(seq), k, 4), np.nan)
      valid = np.zeros((len(seq), k), bool)
    proposals[t] = seq.from_image(np.asarray(out['proposals'], np.float64))
    valid[t] = np.asarray(out['valid'], bool)
  return proposals, valid


def best_overlaps(proposals, valid, gt, k=None):
  """Per frame, the highest IoU of the first ``k`` valid candidates with the ground truth.

  Args:
    proposals: [T, K, 4] x, y, w, h; valid: [T, K] bool; gt: [T, 4] x, y, w, h.
    k: candidates counted (the first k); None: all K.

  Returns:
    [T] float64 best IoU (0 where no candidate is valid), NaN where the frame
    is not scored (frame 0 and frames without a usable ground-truth box).
  """
  proposals = np.asarray(proposals, np.float64)
  valid = np.asarray(valid, bool)
  gt = np.asarray(gt, np.float64)
  k = proposals.shape[1] if k is None else k
  if not 1 <= k <= proposals.shape[1]:
    raise ValueError(f'k must be in 1..{proposals.shape[1]}, got {k}')
  t_len = proposals.shape[0]
  scored = metrics.valid_frames(gt)
  scored[0] = False
  best = np.full(t_len, np.nan)
  for t in np.flatnonzero(scored):
    ious = metrics.iou(proposals[t, :k], np.repeat(gt[t][None], k, axis=0))
    ious = np.where(valid[t, :k], np.nan_to_num(ious), 0.0)
    best[t] = ious.max()
  return best


def candidate_recall(overlaps_per_seq, thresholds=RECALL_THRESHOLDS):
  """Recall curve over IoU thresholds, averaged over sequences.

  Args:
    overlaps_per_seq: list of [T_i] best-candidate IoUs (:func:`best_overlaps`;
      NaN frames are ignored).
    thresholds: IoU thresholds; a frame is recalled when its best IoU is
      ``>= threshold``.

  Returns:
    dict ``thresholds`` [M], ``recall`` [M] (mean over sequences of the share
    of recalled frames), ``recall_at_0.5`` and ``mean_recall`` (the mean of
    ``recall``, fig. 6b's bracketed number for thresholds 0.5 .. 0.7).
  """
  thresholds = np.asarray(thresholds, np.float64)
  per_seq = []
  for best in overlaps_per_seq:
    best = np.asarray(best, np.float64)
    best = best[np.isfinite(best)]
    if best.size:
      per_seq.append((best[:, None] >= thresholds[None]).mean(axis=0))
  if not per_seq:
    raise ValueError('no scored frames')
  recall = np.mean(per_seq, axis=0)
  at_05 = float(recall[np.argmin(np.abs(thresholds - 0.5))])
  return {'thresholds': thresholds, 'recall': recall, 'recall_at_0.5': at_05,
          'mean_recall': float(recall.mean())}
