"""TrackingNet: the 511-sequence test set (first-frame annotation only) or a training chunk.

Layout: ``<root>/TEST/frames/<seq>/0.jpg`` (0-based, unpadded),
``<root>/TEST/anno/<seq>.txt``. Pixels counted from 0.
"""

import os

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('trackingnet', '<root>/TEST/frames/<seq>/0.jpg and '
                     '<root>/TEST/anno/<seq>.txt')


def trackingnet(root, split='TEST'):
  """TrackingNet test set (511 sequences; first-frame annotation only).

  Args:
    root: folder holding ``TEST/`` (or the ``TEST`` folder itself).
    split: sub-folder name, 'TEST' by default ('TRAIN_0' ... also load).

  Returns:
    Dataset; boxes [N, 4] x, y, w, h (0-based pixels), NaN rows where the
    annotation is hidden.
  """
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir) and os.path.isdir(os.path.join(root, 'anno')):
    split_dir = root
  anno_dir = os.path.join(split_dir, 'anno')
  LAYOUT.require_dir(anno_dir)
  names = sorted(os.path.splitext(f)[0] for f in os.listdir(anno_dir) if f.endswith('.txt'))

  def load(name):
    gt_path = os.path.join(anno_dir, f'{name}.txt')
    gt = results_lib.read_rows(gt_path)
    frame_dir = os.path.join(split_dir, 'frames', name)
    LAYOUT.require_dir(frame_dir)
    frames = base.list_images(frame_dir)
    if len(gt) == 1 and len(frames) > 1:
      gt = base.pad_first_frame_only(gt, len(frames))
    base.check_lengths(name, frames, gt, gt_path)
    return base.Sequence(name, frames, gt)

  return base.Dataset('trackingnet', root, names, load, 'otb')
