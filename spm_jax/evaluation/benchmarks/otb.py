"""OTB-2013 / OTB-50 / OTB-100 with the OTB toolkit's table, and any folder in OTB layout.

Layout: ``<root>/<Seq>/img/0001.jpg`` (4 or 5 digits, 1-based),
``<root>/<Seq>/groundtruth_rect.txt`` (``groundtruth_rect.1.txt`` and ``.2.txt``
when a folder has two targets); separators vary (commas, tabs, spaces). The
special cases (late first frames, two targets, ...) are the table
``tables.OTB_SPECIAL``. Boxes are x, y, w, h as stored: pixels counted from 1
(``pixel_origin`` 1).
"""

import json
import os
import re
from typing import Optional, Sequence as Seq

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation import tables
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('otb', '<root>/<Seq>/img/0001.jpg and <root>/<Seq>/groundtruth_rect.txt '
                     '(x,y,w,h per line, commas, tabs or spaces)')
VERSIONS = {'otb2013': tables.OTB2013, 'otb50': tables.OTB50,
            'otb100': tables.OTB100, 'otb2015': tables.OTB100}


def _load_sequence(root, name, folder, anno, start=None, end=None, init_omit=0,
                   attributes=()):
  """Sequence of ``<root>/<folder>`` with boxes [N, 4] x, y, w, h (1-based pixels) of ``anno``."""
  seq_dir = os.path.join(root, folder)
  LAYOUT.require_dir(seq_dir)
  img_dir = os.path.join(seq_dir, 'img')
  LAYOUT.require_dir(img_dir)
  gt_path = os.path.join(seq_dir, anno)
  LAYOUT.require_file(gt_path)
  gt = results_lib.read_rows(gt_path)
  frames = base.list_images(img_dir)
  if start is not None or end is not None:
    lo, hi = start or 1, end or 10 ** 9
    frames = [f for f in frames if lo <= base.frame_number(f) <= hi]
  frames, gt = frames[init_omit:], gt[init_omit:]
  base.check_lengths(name, frames, gt, gt_path)
  return base.Sequence(name, frames, gt,
                       attributes={a: True for a in attributes}, pixel_origin=1.0)


def _attributes(root, version):
  attrs = dict(tables.OTB2013_ATTRIBUTES) if version == 'otb2013' else {}
  path = os.path.join(root, 'attributes.json')
  if os.path.isfile(path):  # Optional user table: {"Seq": ["IV", "SV"], ...}.
    with open(path) as f:
      attrs.update({k: tuple(v) for k, v in json.load(f).items()})
  return attrs


def otb(root, version='otb100', names: Optional[Seq[str]] = None):
  """OTB-2013 / OTB-50 / OTB-100 with the OTB toolkit's sequence table.

  Args:
    root: folder holding one sub-folder per OTB video.
    version: 'otb2013', 'otb50' or 'otb100' ('otb2015').
    names: optional subset of the version's target names.

  Returns:
    Dataset; its sequences' ``gt`` are [N, 4] x, y, w, h as stored (1-based
    pixel origin).

  Raises:
    DatasetNotFoundError: ``root`` or one of the selected sequences is missing.
  """
  version = version.lower()
  if version not in VERSIONS:
    raise ValueError(f'unknown OTB version {version!r}; expected one of '
                     f'{sorted(VERSIONS)}')
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  names = list(names) if names is not None else list(VERSIONS[version])
  attrs = _attributes(root, version)

  def spec(name):
    s = dict(tables.OTB_SPECIAL.get(name, {}))
    if name == 'Tiger1' and version == 'otb2013':
      s.pop('init_omit', None)  # The OTB-2013 table uses all 354 frames.
    return s

  base.missing_sequences(LAYOUT, names,
                         lambda n: os.path.join(root, spec(n).get('folder', n)))

  def load(name):
    s = spec(name)
    return _load_sequence(
        root, name, s.get('folder', name), s.get('anno', 'groundtruth_rect.txt'),
        s.get('start'), s.get('end'), s.get('init_omit', 0), attrs.get(name, ()))

  return base.Dataset(version, root, names, load, 'otb', attrs)


def otb_folder(root, name='custom'):
  """Any folder in OTB layout: every ``<Seq>/img`` with ground truth is a sequence.

  ``<Seq>/groundtruth_rect.txt`` gives sequence ``Seq``; ``groundtruth_rect.k.txt``
  files give ``Seq.k`` (empty files are ignored). All frames of ``img/`` are
  used, 1-based file numbers in natural order.

  Args:
    root: the folder.
    name: dataset name used in reports.

  Returns:
    Dataset; boxes [N, 4] x, y, w, h as stored (1-based pixel origin).
  """
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  entries = {}
  for folder in sorted(os.listdir(root)):
    seq_dir = os.path.join(root, folder)
    if not os.path.isdir(os.path.join(seq_dir, 'img')):
      continue
    annos = sorted(f for f in os.listdir(seq_dir)
                   if re.fullmatch(r'groundtruth_rect(\.\d+)?\.txt', f)
                   and os.path.getsize(os.path.join(seq_dir, f)) > 0)
    for a in annos:
      k = a[len('groundtruth_rect'):-len('.txt')]  # '' or '.1', '.2', ...
      entries[folder + (k if len(annos) > 1 else '')] = (folder, a)
  if not entries:
    raise LAYOUT.missing(os.path.join(root, '<Seq>', 'img'), 'sequence folder (none found)')
  attrs = _attributes(root, name)

  def load(seq_name):
    folder, anno = entries[seq_name]
    return _load_sequence(root, seq_name, folder, anno, attributes=attrs.get(seq_name, ()))

  return base.Dataset(name, root, list(entries), load, 'otb', attrs)
