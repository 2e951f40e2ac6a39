"""LaSOT: the 280-sequence test split (protocol II) or any subset.

Layout: ``<root>/<class>/<class>-<k>/img/00000001.jpg`` with
``groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt`` beside ``img``
(or a flat ``<root>/<class>-<k>``). Pixels counted from 1 (``pixel_origin`` 1).
"""

import os
from typing import Optional, Sequence as Seq

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation import tables
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('lasot', '<root>/<class>/<class>-<k>/img/00000001.jpg and '
                     '<root>/<class>/<class>-<k>/groundtruth.txt')


def _read_flags(path, n):
  """[n] bool from a 0/1 file (one per line or comma-separated on one line)."""
  values = results_lib.read_rows(path, widths=None)
  flags = values.reshape(-1).astype(bool)
  if len(flags) != n:
    raise ValueError(f'{path}: {len(flags)} flags for {n} frames')
  return flags


def lasot(root, names: Optional[Seq[str]] = None):
  """LaSOT test split (280 sequences, protocol II) or a given subset.

  Args:
    root: ``LaSOTBenchmark`` folder (``<class>/<class>-<k>``), or a flat folder
      of ``<class>-<k>`` sequence folders.
    names: sequence names; default ``tables.LASOT_TEST``.

  Returns:
    Dataset; boxes [N, 4] x, y, w, h as stored (1-based pixel origin), per-frame
    ``full_occlusion`` / ``out_of_view`` [N] bool in ``attributes``.
  """
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  names = list(names) if names is not None else list(tables.LASOT_TEST)

  def seq_dir(name):
    nested = os.path.join(root, name.rsplit('-', 1)[0], name)
    flat = os.path.join(root, name)
    return nested if os.path.isdir(nested) or not os.path.isdir(flat) else flat

  base.missing_sequences(LAYOUT, names, seq_dir)

  def load(name):
    d = seq_dir(name)
    gt_path, gt = LAYOUT.read_groundtruth(d)
    img_dir = os.path.join(d, 'img')
    LAYOUT.require_dir(img_dir)
    frames = base.list_images(img_dir)
    base.check_lengths(name, frames, gt, gt_path)
    attrs = {}
    for tag in ('full_occlusion', 'out_of_view'):
      path = os.path.join(d, f'{tag}.txt')
      if os.path.isfile(path):
        attrs[tag] = _read_flags(path, len(frames))
    return base.Sequence(name, frames, gt, attributes=attrs, pixel_origin=1.0)

  return base.Dataset('lasot', root, names, load, 'otb')
