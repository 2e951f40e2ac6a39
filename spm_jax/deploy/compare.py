"""Exported trackers against the JAX tracker, frame by frame in open loop.

Open loop: before every frame each exported tracker is put into the JAX
tracker's state of the previous frame (frame-pixel centre and size, float32),
so a difference in one frame does not carry into the next and every frame
measures the exported step alone. The templates are each tracker's own (each
runs its own template function on the first frame).

Score ties: where two anchors see the same pixels (a target next to the
crop's uniform fill, flat background) their CM scores are equal in exact
arithmetic, and which one a rule "best score first" (near candidate, NMS,
top-K) picks is decided by float rounding, which differs between XLA and
onnxruntime. A frame whose candidate sets differ only in slots whose CM scores
agree to ``TIE_SCORE`` counts as a *tie frame*: reported, and left out of the
box difference and candidate checks.
"""

import dataclasses

import numpy as np

TIE_SCORE = 1e-5  # CM scores this close rank as equal (float32 rounding of one score).
SAME_BOX_PX = 1e-2  # proposals this close are the same candidate.

from spm_jax.tracking import step as step_ops


@dataclasses.dataclass
class OpenLoopResult:
  """Per-frame agreement of one exported tracker with the reference.

  Attributes:
    max_box_diff: [T - 1] max |box - reference box| over x, y, w, h (frame px).
    same_chosen: [T - 1] bool, the same candidate chosen (``outputs['chosen']``).
    max_score_diff: [T - 1] |score - reference score|.
    tie: [T - 1] bool, the candidate sets differ only by score ties (see above).
    same_candidates: [T - 1] bool, every proposal within ``SAME_BOX_PX``.
  """
  max_box_diff: np.ndarray
  same_chosen: np.ndarray
  max_score_diff: np.ndarray
  tie: np.ndarray
  same_candidates: np.ndarray

  def summary(self):
    """Figures over the frames without ties, and the number of tie frames."""
    ok = ~self.tie
    return {'frames': int(self.max_box_diff.size),
            'tie_frames': int(self.tie.sum()),
            'max_box_diff_px': float(self.max_box_diff[ok].max(initial=0.0)),
            'chosen_mismatches': int((~self.same_chosen[ok]).sum()),
            'candidate_mismatches': int((~self.same_candidates[ok]).sum()),
            'max_score_diff': float(self.max_score_diff[ok].max(initial=0.0)),
            'max_box_diff_px_with_ties': float(self.max_box_diff.max(initial=0.0))}


def is_tie(reference, outputs):
  """Whether two steps' outputs differ only by candidates of tied CM scores.

  Args:
    reference, outputs: ``last_outputs`` dicts (``proposals`` [K, 4] x, y, w, h
      frame pixels, ``cm_scores`` [K]).
  """
  moved = np.abs(np.asarray(reference['proposals']) - outputs['proposals']).max(-1) > SAME_BOX_PX
  if not moved.any():
    return False
  gap = np.abs(np.asarray(reference['cm_scores'])[moved] - outputs['cm_scores'][moved])
  return bool((gap <= TIE_SCORE).all())


def open_loop(reference, trackers, frames, box):
  """Runs ``trackers`` beside ``reference`` over ``frames``, in open loop.

  Args:
    reference: a :class:`~spm_jax.tracking.Tracker` (the JAX one).
    trackers: dict name -> Tracker (exported backends).
    frames: iterable of uint8 [H, W, 3] RGB frames; the first initialises.
    box: (x, y, w, h) frame pixels of the target in the first frame.

  Returns:
    dict name -> :class:`OpenLoopResult`.
  """
  frames = iter(frames)
  first = next(frames)
  reference.init(first, box)
  for tracker in trackers.values():
    tracker.init(first, box)
  rows = {name: ([], [], [], [], []) for name in trackers}
  for frame in frames:
    state = reference._state  # pylint: disable=protected-access
    for tracker in trackers.values():
      tracker._state = step_ops.TrackState(  # pylint: disable=protected-access
          np.array(state.center, np.float32), np.array(state.size, np.float32))
    ref_box, ref_score = reference.update(frame)
    ref_chosen = int(reference.last_outputs['chosen'])
    for name, tracker in trackers.items():
      got_box, got_score = tracker.update(frame)
      diffs, chosen, scores, ties, same = rows[name]
      diffs.append(float(np.abs(np.asarray(got_box) - ref_box).max()))
      chosen.append(int(tracker.last_outputs['chosen']) == ref_chosen)
      scores.append(abs(got_score - ref_score))
      ties.append(is_tie(reference.last_outputs, tracker.last_outputs))
      same.append(bool(np.abs(reference.last_outputs['proposals']
                              - tracker.last_outputs['proposals']).max() <= SAME_BOX_PX))
  return {name: OpenLoopResult(*(np.array(v) for v in row)) for name, row in rows.items()}
