"""UAV123 (123 sequences) and UAV20L (20 long ones).

Layout: ``<root>/data_seq/UAV123/<folder>/000001.jpg``,
``<root>/anno/UAV123/<seq>.txt`` (``anno/UAV20L`` for UAV20L); several sequences
share one image folder, cut by the frame ranges of ``tables.UAV123``. Pixels
counted from 1 (``pixel_origin`` 1); NaN rows where the target is absent.
"""

import os

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation import tables
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('uav123', '<root>/data_seq/UAV123/<folder>/000001.jpg and '
                     '<root>/anno/UAV123/<seq>.txt')


def uav123(root, split='UAV123'):
  """UAV123 (123 sequences) or UAV20L (20 long ones); NaN rows = target absent.

  Args:
    root: folder holding ``data_seq/`` and ``anno/``.
    split: 'UAV123' or 'UAV20L'.

  Returns:
    Dataset; boxes [N, 4] x, y, w, h as stored (1-based pixel origin).
  """
  table = {'UAV123': tables.UAV123, 'UAV20L': tables.UAV20L}.get(split)
  if table is None:
    raise ValueError(f"split must be 'UAV123' or 'UAV20L', got {split!r}")
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  anno_dir = os.path.join(root, 'anno', split)
  LAYOUT.require_dir(anno_dir)

  def load(name):
    folder, start, end = table[name]
    gt_path = os.path.join(anno_dir, f'{name}.txt')
    LAYOUT.require_file(gt_path)
    gt = results_lib.read_rows(gt_path)
    img_dir = os.path.join(root, 'data_seq', 'UAV123', folder)
    LAYOUT.require_dir(img_dir)
    frames = [f for f in base.list_images(img_dir) if start <= base.frame_number(f) <= end]
    base.check_lengths(name, frames, gt, gt_path)
    return base.Sequence(name, frames, gt, pixel_origin=1.0)

  return base.Dataset(split.lower(), root, list(table), load, 'otb')
