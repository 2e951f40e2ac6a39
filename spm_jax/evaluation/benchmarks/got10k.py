"""GOT-10k: the val split (full annotations) and the test split (first frame only).

Layout: ``<root>/<split>/list.txt``, ``<root>/<split>/<seq>/00000001.jpg`` and
``groundtruth.txt``; per-frame ``absence`` / ``cover`` / ``cut_by_image``
``.label`` files. Pixels counted from 0; results in the got10k format.
"""

import os

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('got10k', '<root>/<split>/list.txt, <root>/<split>/<seq>/00000001.jpg and '
                     '<root>/<split>/<seq>/groundtruth.txt')


def got10k(root, split='val'):
  """GOT-10k val (full annotations) or test (first frame only).

  Args:
    root: folder holding ``val/`` and ``test/``, or the split folder itself.
    split: 'val' or 'test'.

  Returns:
    Dataset; boxes [N, 4] x, y, w, h (0-based pixels), NaN rows past the first
    frame of the test split.
  """
  if split not in ('val', 'test'):
    raise ValueError(f"split must be 'val' or 'test', got {split!r}")
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir) and os.path.isfile(os.path.join(root, 'list.txt')):
    split_dir = root
  LAYOUT.require_dir(split_dir)
  names = LAYOUT.read_list(os.path.join(split_dir, 'list.txt'))

  def load(name):
    d = os.path.join(split_dir, name)
    gt_path, gt = LAYOUT.read_groundtruth(d)
    frames = base.list_images(d)
    if len(gt) == 1 and len(frames) > 1:
      gt = base.pad_first_frame_only(gt, len(frames))
    base.check_lengths(name, frames, gt, gt_path)
    attrs = {}
    for tag in ('absence', 'cover', 'cut_by_image'):
      path = os.path.join(d, f'{tag}.label')
      if os.path.isfile(path):
        attrs[tag] = results_lib.read_rows(path, widths=(1,))[:, 0]
    return base.Sequence(name, frames, gt, attributes=attrs)

  return base.Dataset(f'got10k_{split}', root, names, load, 'got10k')
