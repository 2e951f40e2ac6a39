"""Exported trackers against the JAX tracker, frame by frame in open loop.

Open loop: before every frame each exported tracker is put into the JAX
tracker's state of the previous frame (frame-pixel centre and size, float32),
so a difference in one frame does not carry into the next and every frame
measures the exported step alone. The templates are each tracker's own (each
runs its own template function on the first frame).
"""

import dataclasses

import numpy as np

from spm_jax.tracking import step as step_ops


@dataclasses.dataclass
class OpenLoopResult:
  """Per-frame agreement of one exported tracker with the reference.

  Attributes:
    max_box_diff: [T - 1] max |box - reference box| over x, y, w, h (frame px).
    same_chosen: [T - 1] bool, the same candidate chosen (``outputs['chosen']``).
    max_score_diff: [T - 1] |score - reference score|.
  """
  max_box_diff: np.ndarray
  same_chosen: np.ndarray
  max_score_diff: np.ndarray

  def summary(self):
    return {'frames': int(self.max_box_diff.size),
            'max_box_diff_px': float(self.max_box_diff.max(initial=0.0)),
            'chosen_mismatches': int((~self.same_chosen).sum()),
            'max_score_diff': float(self.max_score_diff.max(initial=0.0))}


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
  rows = {name: ([], [], []) for name in trackers}
  for frame in frames:
    state = reference._state  # pylint: disable=protected-access
    for tracker in trackers.values():
      tracker._state = step_ops.TrackState(  # pylint: disable=protected-access
          np.array(state.center, np.float32), np.array(state.size, np.float32))
    ref_box, ref_score = reference.update(frame)
    ref_chosen = int(reference.last_outputs['chosen'])
    for name, tracker in trackers.items():
      got_box, got_score = tracker.update(frame)
      diffs, chosen, scores = rows[name]
      diffs.append(float(np.abs(np.asarray(got_box) - ref_box).max()))
      chosen.append(int(tracker.last_outputs['chosen']) == ref_chosen)
      scores.append(abs(got_score - ref_score))
  return {name: OpenLoopResult(np.array(d), np.array(c, bool), np.array(s))
          for name, (d, c, s) in rows.items()}
