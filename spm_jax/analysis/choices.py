"""Why SPM-Tracker is on another object: was the target among its candidates?

:mod:`spm_jax.analysis.failures` says *where* a tracker is when it is off the
target; this module says, for SPM-Tracker on the procedural videos, *which
part of the tracking step* put it there. For every frame on which the tracker
is on another object (``same category`` or ``other category``) while the
target is visible, the step's own outputs of that frame (``last_outputs``:
the K candidates, their fused scores, the chosen one) give one cause:

* ``not a candidate``: no valid candidate overlaps the target (IoU >
  ``candidate_iou`` for its CM box or its FM box): the CM stage, the score
  filter or NMS left the target out, and the FM stage never saw it;
* ``scored lower``: a target candidate was there, but its fused score (eq. 2;
  the FM score for ``variant=series``) was not above the chosen candidate's:
  the two stages preferred the other object;
* ``window or penalty``: the target candidate had the higher fused score and
  lost only to the motion prior (size-change penalty and cosine window, which
  favour the object the tracker is already on);
* ``target chosen``: the chosen candidate is on the target but the box is
  not (the slow size update or the frame border kept it off).

Boxes: x, y, w, h with the top-left corner, in the sequence's pixel numbers
(those of ``seq.gt``); IoU without "+1" (``metrics.iou``).
"""

import numpy as np

from spm_jax.analysis import failures
from spm_jax.evaluation import metrics
from spm_jax.evaluation import ope

CAUSES = ('not a candidate', 'scored lower', 'window or penalty', 'target chosen')
_ON_OTHER_OBJECT = (failures.OUTCOMES.index('same category'),
                    failures.OUTCOMES.index('other category'))


def record_outputs(tracker, seq):
  """Runs ``tracker`` over ``seq`` (one-pass evaluation) keeping each frame's candidates.

  Args:
    tracker: a :class:`spm_jax.tracking.Tracker`.
    seq: ``datasets.Sequence``.

  Returns:
    dict ``boxes`` [T, 4] (the tracker's result), ``proposals`` and ``refined``
    [T, K, 4] (CM and FM boxes of the candidates), ``fused_scores`` [T, K],
    ``valid`` [T, K] bool (False for frame 0 and unreadable frames) and
    ``chosen`` [T] int (-1 there), ``times`` [T] seconds a frame; boxes x, y,
    w, h in the numbers of ``seq.gt``.
  """
  k = tracker.config.tracking.num_candidates
  t_len = len(seq)
  rec = {'proposals': np.full((t_len, k, 4), np.nan), 'refined': np.full((t_len, k, 4), np.nan),
         'fused_scores': np.zeros((t_len, k)), 'valid': np.zeros((t_len, k), bool),
         'chosen': np.full(t_len, -1)}

  def keep(i, trk):
    out = trk.last_outputs
    rec['proposals'][i] = seq.from_image(np.asarray(out['proposals'], np.float64))
    rec['refined'][i] = seq.from_image(np.asarray(out['refined'], np.float64))
    rec['fused_scores'][i] = np.asarray(out['fused_scores'], np.float64)
    rec['valid'][i] = np.asarray(out['valid'], bool)
    rec['chosen'][i] = int(out['chosen'])

  rec['boxes'], rec['times'] = ope.track_sequence(tracker, seq, on_update=keep)[:2]
  return rec


def frame_causes(record, target, outcomes, target_visible, candidate_iou=0.5):
  """The cause of every frame on another object with the target visible.

  Args:
    record: :func:`record_outputs`' dict (``proposals``, ``refined``,
      ``fused_scores``, ``valid``, ``chosen``).
    target: [T, 4] x, y, w, h target boxes, same pixel numbers.
    outcomes: [T] :func:`failures.frame_outcomes` of ``record['boxes']``.
    target_visible: [T] bool.
    candidate_iou: IoU above which a candidate is on the target.

  Returns:
    [T] int64 index into ``CAUSES``; -1 for frames not explained (on the
    target, on nothing, target hidden, frame 0, no recorded candidates).
  """
  target = np.asarray(target, np.float64)
  outcomes = np.asarray(outcomes)
  causes = np.full(len(outcomes), -1, np.int64)
  explain = np.isin(outcomes, _ON_OTHER_OBJECT) & np.asarray(target_visible, bool)
  explain &= np.asarray(record['chosen']) >= 0
  for t in np.flatnonzero(explain):
    k = record['valid'][t].shape[0]
    gt = np.repeat(target[t][None], k, axis=0)
    overlap = np.maximum(np.nan_to_num(metrics.iou(record['proposals'][t], gt)),
                         np.nan_to_num(metrics.iou(record['refined'][t], gt)))
    on_target = record['valid'][t] & (overlap > candidate_iou)
    if not on_target.any():
      causes[t] = 0
      continue
    chosen = record['chosen'][t]
    if on_target[chosen]:
      causes[t] = 3
      continue
    scores = record['fused_scores'][t]
    causes[t] = 1 if np.max(scores[on_target]) <= scores[chosen] else 2
  return causes


def cause_counts(causes):
  """{cause: frames} pooled over sequences' :func:`frame_causes`."""
  codes = np.concatenate([np.asarray(c) for c in causes])
  return {name: int(np.sum(codes == i)) for i, name in enumerate(CAUSES)}


def format_table(table):
  """A text table of ``{tracker: cause_counts(...)}``: frames and per cent of the explained."""
  width = max([len('tracker')] + [len(n) for n in table])
  lines = [f'{"tracker":<{width}}  {"frames":>7}  ' + '  '.join(f'{c:>17}' for c in CAUSES)]
  for name, counts in table.items():
    total = sum(counts.values())
    shares = [100 * counts[c] / total if total else 0.0 for c in CAUSES]
    lines.append(f'{name:<{width}}  {total:7d}  ' + '  '.join(f'{s:16.1f}%' for s in shares))
  return '\n'.join(lines)
