"""One-pass evaluation (OPE): run a tracker once over every sequence.

A tracker is any object with

* ``init(frame, box)`` -- frame uint8 [H, W, 3] RGB, box (x, y, w, h) float
  pixels (top-left corner), the first frame's ground truth;
* ``update(frame) -> (box, score)`` -- box (x, y, w, h) float pixels.

Trackers see boxes in 0-based image pixels (the top-left pixel covers
``[0, 1)``); the ground truth and the result files keep the benchmark's own
numbers (1-based for OTB, LaSOT and UAV123: ``Sequence.pixel_origin``), so
the init box is shifted into image pixels and the tracker's boxes back.

Each sequence's boxes (the first one is the init box) and per-frame seconds
(``init`` / ``update`` only, not image decoding, as the got10k toolkit times
them) go to the benchmark's result layout (see ``results``). Sequences whose
result file already exists are skipped, so an interrupted run resumes.

A frame after the first that cannot be read or decoded is logged and skipped:
the tracker does not see it, its result row repeats the previous box (so rows
stay aligned with the ground truth) with time 0 and score 0, and it is counted
in ``run_ope``'s summary. An unreadable first frame stops the sequence with
an OSError naming the file (there is nothing to initialise on).
"""

import logging
import os
import time

import numpy as np
import tqdm

from spm_jax import cli
from spm_jax.evaluation import results as results_lib


def track_sequence(tracker, seq, progress=False, on_update=None):
  """Runs ``tracker`` over one sequence.

  Args:
    tracker: object with ``init(frame, box)`` and ``update(frame)``.
    seq: ``datasets.Sequence``; ``seq.gt[0]`` is the init box (x, y, w, h).
    progress: show a tqdm bar over the frames.
    on_update: optional ``on_update(index, tracker)``, called after each
      ``update`` (frames 1 .. T-1 that could be read; not timed), e.g. to read
      the tracker's ``last_outputs``.

  Returns:
    (boxes [N, 4] x, y, w, h pixels in the sequence's numbers (those of
    ``seq.gt``), times [N] seconds, scores [N], unreadable: list of the frame
    paths that were skipped).
  """
  n = len(seq)
  boxes = np.zeros((n, 4))
  times = np.zeros(n)
  scores = np.zeros(n)
  unreadable = []
  frames = seq.iter_frames(skip_unreadable=True)
  if progress:
    frames = tqdm.tqdm(frames, total=n, desc=seq.name, leave=False,
                       unit='frame')
  for i, frame in enumerate(frames):
    cli.raise_if_interrupted()  # Ctrl-C: stop between frames, this sequence unwritten.
    if frame is None:
      if i == 0:
        raise OSError(f'{seq.name}: the first frame {seq.frames[0]} cannot be read, '
                      'so the tracker cannot be initialised')
      unreadable.append(seq.frames[i])
      boxes[i] = boxes[i - 1]
      continue
    start = time.perf_counter()
    if i == 0:
      init_box = np.asarray(seq.init_box, dtype=np.float64)
      tracker.init(frame, tuple(float(v) for v in seq.to_image(init_box)))
      box, score = init_box, 1.0
    else:
      box, score = tracker.update(frame)
    times[i] = time.perf_counter() - start
    if i and on_update is not None:
      on_update(i, tracker)
    box = np.asarray(box, dtype=np.float64).reshape(4)
    boxes[i] = box if i == 0 else seq.from_image(box)
    scores[i] = float(score)
  return boxes, times, scores, unreadable


class OpeStatus(dict):
  """``run_ope``'s result: sequence name -> 'done' or 'skipped'.

  Attributes:
    unreadable: sequence name -> paths of the frames skipped as unreadable
      (only sequences that had some).
  """

  def __init__(self):
    super().__init__()
    self.unreadable = {}

  @property
  def num_unreadable(self):
    return sum(len(v) for v in self.unreadable.values())


def run_ope(tracker, dataset, result_dir, fmt=None, overwrite=False,
            progress=True):
  """One-pass evaluation of ``tracker`` on ``dataset``, resumable.

  Args:
    tracker: object with ``init(frame, box)`` and ``update(frame)``; a
      ``make_tracker()`` callable is also accepted and is called per sequence
      (a fresh tracker each time).
    dataset: ``datasets.Dataset``.
    result_dir: this tracker's result folder (created).
    fmt: result layout, default ``dataset.result_format``.
    overwrite: re-run sequences whose results exist.
    progress: tqdm bars over sequences and frames.

  Returns:
    :class:`OpeStatus`: dict sequence name -> 'done' or 'skipped', with the
    unreadable frames that were skipped in ``.unreadable``.
  """
  fmt = fmt or getattr(dataset, 'result_format', 'otb')
  status = OpeStatus()
  names = dataset.names
  bar = tqdm.tqdm(names, desc=f'OPE {dataset.name}', unit='seq',
                  disable=not progress)
  for name in bar:
    box_path, _ = results_lib.result_paths(result_dir, name, fmt)
    if not overwrite and _exists(box_path):
      status[name] = 'skipped'
      continue
    seq = dataset[name]
    is_factory = isinstance(tracker, type) or not hasattr(tracker, 'update')
    trk = tracker() if is_factory else tracker
    boxes, times, _, unreadable = track_sequence(trk, seq, progress=progress)
    results_lib.write_result(result_dir, name, boxes, times, fmt)
    status[name] = 'done'
    if unreadable:
      status.unreadable[name] = unreadable
    logging.info('%s: %d frames in %.2f s', name, len(seq), times.sum())
  if status.unreadable:
    logging.warning('OPE %s: %d unreadable frames skipped in %d sequences: %s',
                    dataset.name, status.num_unreadable, len(status.unreadable),
                    ', '.join(f'{k} ({len(v)})' for k, v in status.unreadable.items()))
  return status


def _exists(path):
  return os.path.isfile(path) and os.path.getsize(path) > 0
