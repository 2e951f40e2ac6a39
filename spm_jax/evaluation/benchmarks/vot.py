"""VOT short-term 2016 / 2017 / 2018: polygon ground truth and per-frame tags.

Layout: ``<root>/list.txt``, ``<root>/<seq>/groundtruth.txt`` (8 values, a
polygon, or 4), images in ``<root>/<seq>/color/00000001.jpg`` (2017+) or
``<root>/<seq>/00000001.jpg`` (2016); per-frame ``*.tag`` / ``*.label`` files.
Pixels counted from 0. The reset protocol and EAO are
:mod:`spm_jax.evaluation.vot`.
"""

import os

import numpy as np

from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation.benchmarks import base

LAYOUT = base.Layout('vot', '<root>/list.txt, <root>/<seq>/groundtruth.txt and '
                     '<root>/<seq>/color/00000001.jpg (or <root>/<seq>/00000001.jpg)')
YEARS = (2016, 2017, 2018)


def polygon_to_box(polygons, mode='bounds'):
  """Axis-aligned boxes from VOT polygons.

  Args:
    polygons: [N, 8] x1, y1, ..., x4, y4 (pixels).
    mode: 'bounds' -- the tightest enclosing box, as the VOT toolkit (trax
      ``region_convert``) hands a polygon to a tracker that asks for rectangles;
      'area' -- centred on the polygon's mean, scaled so its area equals the
      polygon's (pysot / got10k / SiamFC initialisation).

  Returns:
    [N, 4] x, y, w, h (pixels, top-left corner).
  """
  p = np.asarray(polygons, dtype=np.float64).reshape(-1, 8)
  xs, ys = p[:, 0::2], p[:, 1::2]
  x1, x2 = xs.min(axis=1), xs.max(axis=1)
  y1, y2 = ys.min(axis=1), ys.max(axis=1)
  if mode == 'bounds':
    return np.stack([x1, y1, x2 - x1, y2 - y1], axis=1)
  if mode == 'area':
    cx, cy = xs.mean(axis=1), ys.mean(axis=1)
    edge1 = np.hypot(xs[:, 0] - xs[:, 1], ys[:, 0] - ys[:, 1])
    edge2 = np.hypot(xs[:, 1] - xs[:, 2], ys[:, 1] - ys[:, 2])
    area_box = (x2 - x1) * (y2 - y1)
    with np.errstate(invalid='ignore', divide='ignore'):
      s = np.sqrt(edge1 * edge2 / area_box)
    w, h = s * (x2 - x1), s * (y2 - y1)
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1)
  raise ValueError(f"mode must be 'bounds' or 'area', got {mode!r}")


def box_to_polygon(boxes):
  """[N, 4] x, y, w, h (pixels) -> [N, 8] corners, clockwise from top-left."""
  b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
  x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
  return np.stack([x1, y1, x2, y1, x2, y2, x1, y2], axis=1)


def _tags(seq_dir, n):
  """tag -> [n] bool from the ``*.tag`` / ``*.label`` files of a sequence folder."""
  attrs = {}
  for f in sorted(os.listdir(seq_dir)):
    stem, ext = os.path.splitext(f)
    if ext in ('.tag', '.label'):
      path = os.path.join(seq_dir, f)
      flags = np.zeros(n, bool)
      if os.path.getsize(path):
        vals = results_lib.read_rows(path, widths=(1,))[:, 0].astype(bool)
        flags[:len(vals)] = vals[:n]
      attrs[stem] = flags
  return attrs


def vot(root, year=2018, box_mode='bounds'):
  """VOT short-term 2016 / 2017 / 2018 (polygon ground truth).

  Args:
    root: folder with ``list.txt``.
    year: 2016, 2017 or 2018 (recorded as ``dataset.year`` for the EAO range).
    box_mode: how ``gt`` boxes come from polygons, see ``polygon_to_box``.

  Returns:
    Dataset whose sequences carry ``polygons`` [N, 8] and ``gt`` [N, 4]
    x, y, w, h (0-based pixels), and per-frame tag arrays in ``attributes``.
  """
  root = os.fspath(root)
  LAYOUT.require_dir(root)
  names = LAYOUT.read_list(os.path.join(root, 'list.txt'))

  def load(name):
    seq_dir = os.path.join(root, name)
    gt_path, raw = LAYOUT.read_groundtruth(seq_dir, widths=(4, 8))
    polys = box_to_polygon(raw) if raw.shape[1] == 4 else raw
    img_dir = os.path.join(seq_dir, 'color')
    frames = base.list_images(img_dir if os.path.isdir(img_dir) else seq_dir)
    base.check_lengths(name, frames, polys, gt_path)
    return base.Sequence(name, frames, polygon_to_box(polys, box_mode), polys,
                         _tags(seq_dir, len(frames)))

  ds = base.Dataset(f'vot{year}', root, names, load, 'otb')
  ds.year = int(year)
  return ds
