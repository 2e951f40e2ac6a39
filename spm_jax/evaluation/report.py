"""Scores of tracker result folders on a benchmark, and a printed table.

Dataset-level numbers follow the got10k toolkit: each curve is computed per
sequence, the curves are averaged over sequences (every sequence weighs the
same, whatever its length), and the scalars are read off the averaged curves
(success AUC = mean of the 21 points, precision at 20 px, normalized precision
as its 51-point mean and at 0.2). Speed is the mean over sequences of the mean
of ``1 / t`` over frames with ``t > 0``.
"""

import logging
import os

import numpy as np

from spm_jax.analysis import box_stats as box_stats_lib
from spm_jax.evaluation import metrics
from spm_jax.evaluation import results as results_lib


def _ground_truths(dataset):
  """name -> [N, 4] x, y, w, h ground truth, from a dict or a Dataset."""
  if isinstance(dataset, dict):
    return dataset
  return {seq.name: seq.gt for seq in dataset}


def evaluate_results(dataset, result_dir, fmt=None, first_frame='gt',
                     attributes=None, box_stats=False, keep_boxes=False):
  """Scores one tracker's result folder.

  Args:
    dataset: a ``datasets.Dataset`` or a dict ``name -> gt`` ([N, 4] x, y, w, h
      pixels, NaN rows for missing annotations).
    result_dir: the tracker's folder in the ``fmt`` layout, or a list of
      folders searched in turn (the first holding a sequence's result is
      read: one run's results on benchmarks pooled from several folders).
    fmt: 'otb' or 'got10k'; detected from the folder when None.
    first_frame: see ``metrics.prepare`` ('gt' as got10k's OTB experiment).
    attributes: optional ``name -> iterable of attribute tags``; adds
      ``by_attribute[tag]`` averages over the sequences having that tag.
    box_stats: also compute ``box_stats.box_statistics`` of the same boxes
      (frames on the target, IoU there, size drift) as 'box_stats'.
    keep_boxes: also return the boxes read, as 'boxes' (name -> [n, 4] x, y,
      w, h in the benchmark's pixel frame, cut to the ground truth's length).

  Returns:
    dict with the averaged curves ('success_curve' [21], 'precision_curve' [51],
    'norm_precision_curve' [51]), scalars ('success_auc', 'precision_20',
    'norm_precision_auc', 'norm_precision_020', 'fps'), 'per_sequence' (name ->
    ``metrics.summarize`` dict plus 'fps') and 'by_attribute'.

  Raises:
    FileNotFoundError: a sequence has no result file (in any of the folders).
  """
  gts = _ground_truths(dataset)
  dirs = ([result_dir] if isinstance(result_dir, (str, os.PathLike)) else list(result_dir))
  fmt = fmt or results_lib.detect_format(dirs[0])
  per_seq, pairs = {}, []
  for name, gt in gts.items():
    boxes, times = results_lib.read_first_result(dirs, name, fmt)
    if len(boxes) != len(gt):
      logging.warning('%s: %d result boxes but %d ground-truth boxes; scoring '
                      'the first %d', name, len(boxes), len(gt),
                      min(len(boxes), len(gt)))
      n = min(len(boxes), len(gt))
      boxes, gt = boxes[:n], gt[:n]
    s = metrics.summarize(boxes, gt, first_frame=first_frame)
    s['fps'] = _fps(times)
    per_seq[name] = s
    pairs.append((boxes, gt))
  out = _average(list(per_seq.values()))
  out['per_sequence'] = per_seq
  if box_stats:
    out['box_stats'] = box_stats_lib.box_statistics(pairs)
  if keep_boxes:
    out['boxes'] = {name: boxes for name, (boxes, _) in zip(per_seq, pairs)}
  out['by_attribute'] = {}
  if attributes:
    tags = sorted({t for n in per_seq for t in attributes.get(n, ())})
    for tag in tags:
      names = [n for n in per_seq if tag in attributes.get(n, ())]
      avg = _average([per_seq[n] for n in names])
      avg['num_sequences'] = len(names)
      out['by_attribute'][tag] = avg
  return out


def average_runs(reports):
  """The mean of several training runs' reports on one benchmark, for a table or plot.

  Curves are averaged over the runs and the scalars read off the averaged
  curves, so ``success_auc`` is the mean of the runs' AUCs (as is every
  scalar). Differences between runs are judged with
  :func:`spm_jax.evaluation.stats.compare_runs`, which needs the runs'
  own reports.

  Args:
    reports: ``evaluate_results`` outputs of the runs (same sequences).

  Returns:
    dict with the curves and scalars of ``evaluate_results`` (no
    ``per_sequence``) and ``run_success_auc`` (each run's AUC).
  """
  out = _average(list(reports))
  out['run_success_auc'] = [r['success_auc'] for r in reports]
  out['by_attribute'] = {}
  return out


def _fps(times):
  if times is None:
    return 0.0
  times = times[times > 0]
  return float(np.mean(1.0 / times)) if len(times) else 0.0


def _average(summaries):
  """Averages per-sequence curves and reads the scalars off the averages."""
  if not summaries:
    raise ValueError('no sequences to average')
  succ = np.mean([s['success_curve'] for s in summaries], axis=0)
  prec = np.mean([s['precision_curve'] for s in summaries], axis=0)
  nprec = np.mean([s['norm_precision_curve'] for s in summaries], axis=0)
  speeds = [s['fps'] for s in summaries if s.get('fps', 0) > 0]
  return dict(
      success_curve=succ, precision_curve=prec, norm_precision_curve=nprec,
      success_auc=float(succ.mean()), precision_20=float(prec[20]),
      norm_precision_auc=float(nprec.mean()),
      norm_precision_020=float(nprec[20]),
      fps=float(np.mean(speeds)) if speeds else 0.0)


def format_table(reports, columns=('success_auc', 'precision_20',
                                   'norm_precision_auc', 'fps')):
  """Plain-text table, one row per tracker, best success AUC first.

  Args:
    reports: dict tracker name -> ``evaluate_results`` output.
    columns: keys of the report to show.
  """
  headers = {'success_auc': 'AUC', 'precision_20': 'Prec@20',
             'norm_precision_auc': 'NormPrec', 'norm_precision_020':
             'NormP@.2', 'fps': 'FPS'}
  names = sorted(reports, key=lambda n: -reports[n]['success_auc'])
  width = max([len('Tracker')] + [len(n) for n in names])
  lines = ['  '.join([f'{"Tracker":<{width}}'] +
                     [f'{headers.get(c, c):>9}' for c in columns])]
  for n in names:
    cells = []
    for c in columns:
      v = reports[n][c]
      cells.append(f'{v:>9.1f}' if c == 'fps' else f'{v:>9.3f}')
    lines.append('  '.join([f'{n:<{width}}'] + cells))
  return '\n'.join(lines)
