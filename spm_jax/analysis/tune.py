"""Grid search of the tracking hyper-parameters on a validation split.

The tracking step's hyper-parameters (``config.tracking``: cosine-window
influence, size learning rate, the fusion weights W_cls and W_box of eq. (2),
...) are not learned; like pysot's and the release's, they are chosen per
training setting on sequences kept apart from the test set. :func:`grid_search`
runs one-pass evaluation for every point of a grid and ranks the points by
mean success AUC; the decoded frames of the split are kept in memory, so each
point costs only the tracking.

Use a validation split whose seeds are neither the training's nor the test's
(``python -m spm_jax.data.synthetic --seed 2000 ...`` for the procedural
study; the training uses ``(0, i)`` and the test ``(1000, i)``).
"""

import copy
import itertools

import numpy as np

from spm_jax.evaluation import metrics
from spm_jax.evaluation import protocols


def parse_grid(items):
  """``['tracking.size_lr=0.1,0.3', ...]`` -> ``{'tracking.size_lr': (0.1, 0.3)}``.

  Raises:
    ValueError naming an item that is not ``key=v1,v2,...`` with numeric values.
  """
  grid = {}
  for item in items:
    key, sep, values = item.partition('=')
    if not sep or not key or not values:
      raise ValueError(f'grid item {item!r}: expected "section.key=v1,v2,..."')
    try:
      grid[key.strip()] = tuple(float(v) for v in values.split(','))
    except ValueError as e:
      raise ValueError(f'grid item {item!r}: values must be numbers') from e
  return grid


def set_path(config, dotted, value):
  """Sets ``config.a.b = value`` for ``dotted='a.b'``, keeping the field's type."""
  *parents, leaf = dotted.split('.')
  node = config
  for key in parents:
    node = node[key]
  if leaf not in node:
    raise KeyError(f'{dotted} is not a config field')
  if isinstance(node[leaf], bool):
    if value not in (0, 1):
      raise ValueError(f'{dotted} is a boolean field (0 or 1), got {value}')
    value = bool(value)
  elif isinstance(node[leaf], int):
    if value != int(value):
      raise ValueError(f'{dotted} is an integer field, got {value}')
    value = int(value)
  node[leaf] = value


def grid_points(grid):
  """Every combination of ``grid`` (dict key -> values) as a list of dicts, in order."""
  keys = list(grid)
  return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def load_frames(dataset):
  """``[(name, frames [N, H, W, 3] uint8 list, gt [N, 4], init [4])]`` of a dataset.

  ``gt`` and ``init`` (the box the tracker starts from, ``Sequence.init_box``)
  are x, y, w, h in 0-based image pixels (``Sequence.to_image``), the frame
  that trackers are given and answer in (see ``ope``). A frame file shared by
  several sequences (the runs of :mod:`spm_jax.evaluation.protocols`) is
  decoded and held once.
  """
  out, decoded = [], {}
  for name in dataset.names:
    seq = dataset[name]
    frames = []
    for i, path in enumerate(seq.frames):
      if path not in decoded:
        decoded[path] = seq.frame(i)
      frames.append(decoded[path])
    out.append((name, frames, seq.to_image(seq.gt), seq.to_image(seq.init_box)))
  return out


def evaluate_point(make_tracker, sequences):
  """Tracks every sequence with a fresh tracker; returns mean AUC and P@20.

  Args:
    make_tracker: callable returning an object with ``init(frame, box)`` and
      ``update(frame) -> (box, score)``; boxes (x, y, w, h) frame pixels.
    sequences: from :func:`load_frames`.

  Returns:
    dict ``auc``, ``precision`` (means over videos: the TRE / SRE runs of a
    video are averaged first, ``protocols.by_video``) and ``per_sequence``
    (name -> AUC).
  """
  aucs, precisions = {}, {}
  for name, frames, gt, init in sequences:
    tracker = make_tracker()
    tracker.init(frames[0], tuple(float(v) for v in init))
    boxes = [init] + [np.asarray(tracker.update(f)[0], np.float64) for f in frames[1:]]
    boxes = np.asarray(boxes)
    aucs[name] = metrics.success_auc(boxes, gt)
    precisions[name] = metrics.precision_at(boxes, gt)
  mean = lambda scores: float(np.mean(list(protocols.by_video(scores).values())))
  return {'auc': mean(aucs), 'precision': mean(precisions), 'per_sequence': aucs}


def grid_search(config, variables, dataset, grid, progress=None):
  """Evaluates ``config`` with every grid point's tracking values.

  Args:
    config: full config (model + tracking).
    variables: the trained model's variables.
    dataset: ``datasets.Dataset`` (the validation split).
    grid: dict dotted config path -> values (see :func:`parse_grid`).
    progress: optional callable ``(index, total, point, result)`` called after
      each point.

  Returns:
    list of ``{'point': dict, 'auc': float, 'precision': float,
    'per_sequence': dict}``, best AUC first.
  """
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import step  # pylint: disable=import-outside-toplevel
  sequences = load_frames(dataset)
  results = []
  points = grid_points(grid)
  for i, point in enumerate(points):
    cfg = copy.deepcopy(config)
    with cfg.unlocked():
      for key, value in point.items():
        set_path(cfg, key, value)
    # One compiled step per point, shared by the fresh trackers of its sequences.
    fns = step.make_track_fns(cfg)
    result = evaluate_point(lambda: Tracker(cfg, variables, fns=fns), sequences)  # pylint: disable=cell-var-from-loop
    result['point'] = point
    results.append(result)
    if progress is not None:
      progress(i, len(points), point, result)
  return sorted(results, key=lambda r: -r['auc'])
