"""One-pass evaluation (OPE): run a tracker once over every sequence.

A tracker is any object with

* ``init(frame, box)`` -- frame uint8 [H, W, 3] RGB, box (x, y, w, h) float
  pixels (top-left corner), the first frame's ground truth;
* ``update(frame) -> (box, score)`` -- box (x, y, w, h) float pixels.

Each sequence's boxes (the first one is the init box) and per-frame seconds
(``init`` / ``update`` only, not image decoding, as the got10k toolkit times
them) go to the benchmark's result layout (see ``results``). Sequences whose
result file already exists are skipped, so an interrupted run resumes.
"""

import logging
import os
import time

import numpy as np
import tqdm

from spm_jax.evaluation import results as results_lib


def track_sequence(tracker, seq, progress=False):
  """Runs ``tracker`` over one sequence.

  Args:
    tracker: object with ``init(frame, box)`` and ``update(frame)``.
    seq: ``datasets.Sequence``; ``seq.gt[0]`` is the init box (x, y, w, h).
    progress: show a tqdm bar over the frames.

  Returns:
    (boxes [N, 4] x, y, w, h pixels, times [N] seconds, scores [N]).
  """
  n = len(seq)
  boxes = np.zeros((n, 4))
  times = np.zeros(n)
  scores = np.zeros(n)
  frames = seq.iter_frames()
  if progress:
    frames = tqdm.tqdm(frames, total=n, desc=seq.name, leave=False,
                       unit='frame')
  for i, frame in enumerate(frames):
    start = time.perf_counter()
    if i == 0:
      init_box = np.asarray(seq.init_box, dtype=np.float64)
      tracker.init(frame, tuple(float(v) for v in init_box))
      box, score = init_box, 1.0
    else:
      box, score = tracker.update(frame)
    times[i] = time.perf_counter() - start
    boxes[i] = np.asarray(box, dtype=np.float64).reshape(4)
    scores[i] = float(score)
  return boxes, times, scores


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
    dict sequence name -> 'done' or 'skipped'.
  """
  fmt = fmt or getattr(dataset, 'result_format', 'otb')
  status = {}
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
    boxes, times, _ = track_sequence(trk, seq, progress=progress)
    results_lib.write_result(result_dir, name, boxes, times, fmt)
    status[name] = 'done'
    logging.info('%s: %d frames in %.2f s', name, len(seq), times.sum())
  return status


def _exists(path):
  return os.path.isfile(path) and os.path.getsize(path) > 0
