"""Trackers' result folders on one benchmark: runs, pooled splits, differences, failures.

``scripts/compare.py`` is the command line. A tracker is a list of runs (the
same tracker trained several times), a run a list of result folders searched in
turn for each sequence (one run's results on pooled splits). Boxes are
``x, y, w, h`` frame pixels (OTB convention) throughout.
"""

import os

from spm_jax.analysis import box_stats
from spm_jax.analysis import failures
from spm_jax.evaluation import datasets
from spm_jax.evaluation import protocols
from spm_jax.evaluation import report
from spm_jax.evaluation import stats

DIFFERENCE_KEYS = (('success_auc', 'AUC'), ('precision_20', 'Prec@20'))


def parse_results(items):
  """['path', 'name=a+b', ...] -> {name: [run folders, ...]}, each run a list of folders.

  A name defaults to the (first) folder's name; a repeated name adds a run.
  """
  out = {}
  for item in items:
    name, sep, path = item.partition('=')
    if not sep:
      name, path = os.path.basename(os.path.normpath(item.split('+')[0])), item
    out.setdefault(name, []).append([os.path.expanduser(p) for p in path.split('+')])
  return out


def load_pooled(kind, data_dirs, protocol='ope', segments=20):
  """Sequences and attributes of the benchmark folders ``data_dirs``, pooled.

  ``protocol`` / ``segments``: the runs of each video the results hold
  (:func:`spm_jax.evaluation.protocols.derive`).

  Returns:
    (name -> ``datasets.Sequence`` (its ``gt``: [N, 4] x, y, w, h pixels),
    name -> attribute tags).

  Raises:
    ValueError: two folders hold a sequence of the same name.
  """
  sequences, attributes, where = {}, {}, {}
  for data_dir in data_dirs:
    dataset = protocols.derive(datasets.load_dataset(kind, data_dir), protocol, segments)
    for seq in dataset:
      if seq.name in where:
        raise ValueError(f'--data_dir: sequence {seq.name!r} is in both {where[seq.name]} '
                         f'and {data_dir}')
      where[seq.name] = data_dir
      sequences[seq.name] = seq
    attributes.update(dataset.attributes)
  return sequences, attributes


def score_run(name, folders, gts, attributes, **kwargs):
  """``report.evaluate_results`` of tracker ``name``'s run in ``folders`` (kwargs passed on).

  Raises:
    ValueError naming the tracker and the folder or sequence that is missing.
  """
  for path in folders:
    if not os.path.isdir(path):
      raise ValueError(f'--results: {name}: no result folder {path}')
  try:
    return report.evaluate_results(gts, folders, attributes=attributes, **kwargs)
  except FileNotFoundError as e:  # an unfinished run: name the tracker and the sequence
    raise ValueError(f'--results: {name}: {e}') from e


def run_labels(runs):
  """(label, report) of every run: the tracker's name, or ``name run i`` among several."""
  for name, reps in runs.items():
    for i, rep in enumerate(reps):
      yield (name if len(reps) == 1 else f'{name} run {i + 1}'), rep


def tracker_reports(runs):
  """One report per tracker: its run's, or the mean over its runs (``NAME (n runs)``)."""
  reports = {}
  for name, reps in runs.items():
    if len(reps) == 1:
      reports[name] = reps[0]
    else:
      reports[f'{name} ({len(reps)} runs)'] = report.average_runs(reps)
  return reports


def format_differences(runs, reference):
  """Lines of each tracker's difference from ``reference`` (two-level bootstrap)."""
  lines = [f'Difference from {reference} (mean over runs and videos, 95 % interval over runs '
           'and videos; videos better / worse):']
  width = max(len(n) for n in runs)
  for name in sorted(runs, key=lambda n: -report.average_runs(runs[n])['success_auc']):
    if name == reference:
      continue
    cells = []
    for key, label in DIFFERENCE_KEYS:
      c = stats.compare_runs(runs[name], runs[reference], key)
      cells.append(f'{label} {c["diff"]:+.3f} [{c["low"]:+.3f}, {c["high"]:+.3f}] '
                   f'{c["wins"]}/{c["losses"]}')
    lines.append(f'  {name:<{width}}  ' + '   '.join(cells))
  return lines


def box_stats_table(runs):
  """``box_stats.format_table`` of every run (reports scored with ``box_stats=True``)."""
  return box_stats.format_table({label: rep['box_stats'] for label, rep in run_labels(runs)})


def failure_table(runs, sequences):
  """{run label: failures.outcome_shares} of every run (objects loaded once).

  The reports must keep their boxes (``keep_boxes=True``); procedural videos only.
  """
  objects = {}
  for name, seq in sequences.items():
    try:
      objects[name] = failures.sequence_objects(seq)
    except (FileNotFoundError, ValueError) as e:
      raise ValueError(f'--failures: {e}') from e
  table = {}
  for label, rep in run_labels(runs):
    outcomes = []
    for seq_name, boxes in rep['boxes'].items():
      boxes_of, categories, visible = objects[seq_name]
      n = len(boxes)
      outcomes.append(failures.frame_outcomes(boxes, boxes_of[:n], categories, visible[:n]))
    table[label] = failures.outcome_shares(outcomes)
  return table
