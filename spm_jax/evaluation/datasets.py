"""Lazy sequence loaders for the tracking benchmarks.

A ``Dataset`` knows its sequence names when built (from the benchmark's list
or table) and reads a sequence's annotation and frame list only when that
sequence is accessed; frames are decoded one at a time by ``Sequence.frame``.

Boxes are ``[N, 4]`` float64 rows of ``x, y, w, h`` in pixels, ``x, y`` the
top-left corner, row ``i`` for frame ``i``; a NaN row marks a frame without
annotation (absent target, or the hidden test annotations of GOT-10k and
TrackingNet). Coordinates are kept as the benchmark stores them -- OTB's, LaSOT's
and UAV123's files count pixels from 1 (MATLAB) -- so result files stay
comparable with published ones. A sequence's ``pixel_origin`` says which number
its files give the image's first pixel (1 for those benchmarks, 0 for GOT-10k,
TrackingNet and VOT), and ``ope.track_sequence`` hands trackers boxes in image
pixels (``x - pixel_origin``), the frame that a tracker trained on 0-based
boxes predicts in, and shifts their boxes back into the file's numbers. (The
got10k toolkit and pysot pass OTB's numbers to the tracker as they are, which
puts its boxes one pixel up and left of the ground truth.)

Layouts (``<root>`` is the folder given to the loader):

* OTB (``otb``, ``otb_folder``): ``<root>/<Seq>/img/0001.jpg`` (4 or 5 digits,
  1-based), ``<root>/<Seq>/groundtruth_rect.txt`` (``groundtruth_rect.1.txt`` and
  ``.2.txt`` when a folder has two targets); separators vary (commas, tabs,
  spaces). The special cases (late first frames, two targets, ...) are the table
  ``tables.OTB_SPECIAL``.
* VOT 2016-2018: ``<root>/list.txt``, ``<root>/<seq>/groundtruth.txt`` (8 values,
  a polygon, or 4), images in ``<root>/<seq>/color/00000001.jpg`` (2017+) or
  ``<root>/<seq>/00000001.jpg`` (2016); per-frame ``*.tag`` / ``*.label`` files.
* LaSOT: ``<root>/<class>/<class>-<k>/img/00000001.jpg`` with
  ``groundtruth.txt``, ``full_occlusion.txt``, ``out_of_view.txt`` beside ``img``.
* GOT-10k: ``<root>/<split>/list.txt``, ``<root>/<split>/<seq>/00000001.jpg`` and
  ``groundtruth.txt`` (test: first frame only).
* TrackingNet: ``<root>/TEST/frames/<seq>/0.jpg`` (0-based, unpadded),
  ``<root>/TEST/anno/<seq>.txt`` (test: first frame only).
* UAV123: ``<root>/data_seq/UAV123/<folder>/000001.jpg``,
  ``<root>/anno/UAV123/<seq>.txt`` (``anno/UAV20L`` for UAV20L).
"""

import dataclasses
import json
import logging
import os
import re
from typing import Callable, Optional, Sequence as Seq

import numpy as np

from spm_jax.data import image_io
from spm_jax.evaluation import results as results_lib
from spm_jax.evaluation import tables

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')

LAYOUTS = {
    'otb': '<root>/<Seq>/img/0001.jpg and <root>/<Seq>/groundtruth_rect.txt '
           '(x,y,w,h per line, commas, tabs or spaces)',
    'vot': '<root>/list.txt, <root>/<seq>/groundtruth.txt and '
           '<root>/<seq>/color/00000001.jpg (or <root>/<seq>/00000001.jpg)',
    'lasot': '<root>/<class>/<class>-<k>/img/00000001.jpg and '
             '<root>/<class>/<class>-<k>/groundtruth.txt',
    'got10k': '<root>/<split>/list.txt, <root>/<split>/<seq>/00000001.jpg and '
              '<root>/<split>/<seq>/groundtruth.txt',
    'trackingnet': '<root>/TEST/frames/<seq>/0.jpg and '
                   '<root>/TEST/anno/<seq>.txt',
    'uav123': '<root>/data_seq/UAV123/<folder>/000001.jpg and '
              '<root>/anno/UAV123/<seq>.txt',
}


class DatasetNotFoundError(FileNotFoundError):
  """A benchmark folder or file is missing; the message gives the layout."""


def _missing(kind, path, what='folder'):
  return DatasetNotFoundError(
      f'{kind} {what} not found: {path}\nExpected layout: {LAYOUTS[kind]}')


def load_image(path):
  """Reads an image file as uint8 [H, W, 3] RGB; OSError naming the file and the reason.

  A truncated JPEG or PNG is unreadable (:func:`spm_jax.data.image_io.read_image`).
  """
  return image_io.read_image(path)


@dataclasses.dataclass
class Sequence:
  """One annotated target in one video.

  Attributes:
    name: unique name within the benchmark (result files are named after it).
    frames: N image paths in temporal order.
    gt: [N, 4] float64 x, y, w, h (pixels, top-left corner); NaN rows = missing.
    polygons: [N, 8] float64 x1, y1, ..., x4, y4 (VOT), or None.
    attributes: tag -> True (sequence-level, OTB) or [N] bool array (per
      frame: VOT tags, LaSOT occlusion / out-of-view, GOT-10k absence).
    pixel_origin: the coordinate that ``gt`` gives the image's top-left pixel:
      1.0 for the MATLAB-made benchmarks (OTB, LaSOT, UAV123), 0.0 otherwise.
  """
  name: str
  frames: list
  gt: np.ndarray
  polygons: Optional[np.ndarray] = None
  attributes: dict = dataclasses.field(default_factory=dict)
  pixel_origin: float = 0.0

  def __len__(self):
    return len(self.frames)

  def frame(self, i):
    """Frame ``i`` as uint8 [H, W, 3] RGB."""
    return load_image(self.frames[i])

  def iter_frames(self, skip_unreadable=False):
    """Yields uint8 [H, W, 3] RGB frames in order, decoding one at a time.

    Args:
      skip_unreadable: yield None (after a logged warning naming the file) for
        a frame that is missing or fails to decode, instead of raising OSError.
    """
    for path in self.frames:
      try:
        yield load_image(path)
      except OSError:
        if not skip_unreadable:
          raise
        logging.warning('%s: skipping frame %s: it cannot be read or decoded', self.name, path)
        yield None

  @property
  def init_box(self):
    """[4] x, y, w, h of the first frame (pixels, the files' numbers)."""
    return self.gt[0]

  def to_image(self, boxes):
    """[..., 4] x, y, w, h in the files' numbers -> 0-based image pixels."""
    return np.asarray(boxes, np.float64) - self._origin_shift()

  def from_image(self, boxes):
    """[..., 4] x, y, w, h in 0-based image pixels -> the files' numbers."""
    return np.asarray(boxes, np.float64) + self._origin_shift()

  def _origin_shift(self):
    return np.array([self.pixel_origin, self.pixel_origin, 0.0, 0.0])


class Dataset:
  """A benchmark: ordered sequence names and a lazy per-sequence loader.

  Attributes:
    name: benchmark id, e.g. 'otb100'.
    root: its folder.
    names: sequence names, in the benchmark's order.
    result_format: 'otb' or 'got10k' (see ``results``).
  """

  def __init__(self, name, root, names, load_fn: Callable[[str], Sequence],
               result_format='otb', attributes=None):
    self.name = name
    self.root = os.fspath(root)
    self.names = list(names)
    self.result_format = result_format
    self._load_fn = load_fn
    self._attributes = attributes or {}

  def __len__(self):
    return len(self.names)

  def __iter__(self):
    for n in self.names:
      yield self._load_fn(n)

  def __getitem__(self, key):
    if isinstance(key, int):
      key = self.names[key]
    if key not in self.names:
      raise KeyError(f'{self.name} has no sequence {key!r}')
    return self._load_fn(key)

  @property
  def attributes(self):
    """name -> tuple of sequence-level attribute tags (OTB), possibly empty."""
    return self._attributes

  def subset(self, names):
    """The same benchmark restricted to ``names`` (in the given order)."""
    unknown = [n for n in names if n not in self.names]
    if unknown:
      raise KeyError(f'{self.name} has no sequences {unknown}')
    return Dataset(self.name, self.root, names, self._load_fn,
                   self.result_format, self._attributes)

  def __repr__(self):
    return f'Dataset({self.name!r}, {self.root!r}, {len(self)} sequences)'


# ---------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------
def _frame_number(path):
  digits = re.findall(r'\d+', os.path.splitext(os.path.basename(path))[0])
  return int(digits[-1]) if digits else -1


def list_images(folder):
  """Image files of a folder sorted by the number in their name (natural order).

  Returns:
    list of paths; ``10.jpg`` comes after ``9.jpg``.
  """
  names = [n for n in os.listdir(folder)
           if n.lower().endswith(IMAGE_EXTENSIONS) and not n.startswith('.')]
  paths = [os.path.join(folder, n) for n in names]
  return sorted(paths, key=lambda p: (_frame_number(p), p))


def _require_dir(kind, path):
  if not os.path.isdir(path):
    raise _missing(kind, path)


def _require_file(kind, path):
  if not os.path.isfile(path):
    raise _missing(kind, path, 'file')


def _read_groundtruth(kind, seq_dir, **kwargs):
  """``(path, rows)`` of ``seq_dir/groundtruth.txt``; a missing folder or file is named."""
  _require_dir(kind, seq_dir)
  path = os.path.join(seq_dir, 'groundtruth.txt')
  _require_file(kind, path)
  return path, results_lib.read_rows(path, **kwargs)


def _read_list(kind, path):
  _require_file(kind, path)
  with open(path) as f:
    return [line.strip() for line in f if line.strip()]


def _check_lengths(name, frames, gt, gt_path):
  if len(frames) != len(gt):
    raise ValueError(f'{name}: {len(frames)} frames but {len(gt)} boxes in '
                     f'{gt_path}')


def _read_flags(path, n):
  """[n] bool from a 0/1 file (one per line or comma-separated on one line)."""
  values = results_lib.read_rows(path, widths=None)
  flags = values.reshape(-1).astype(bool)
  if len(flags) != n:
    raise ValueError(f'{path}: {len(flags)} flags for {n} frames')
  return flags


def _pad_first_frame_only(gt, n):
  """Test splits give the first box only: [1, 4] -> [n, 4] with NaN rows."""
  out = np.full((n, 4), np.nan)
  out[:len(gt)] = gt[:n]
  return out


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


# ---------------------------------------------------------------------------
# OTB.
# ---------------------------------------------------------------------------
_OTB_VERSIONS = {'otb2013': tables.OTB2013, 'otb50': tables.OTB50,
                 'otb100': tables.OTB100, 'otb2015': tables.OTB100}


def _load_otb_sequence(root, name, folder, anno, start=None, end=None,
                       init_omit=0, attributes=()):
  seq_dir = os.path.join(root, folder)
  _require_dir('otb', seq_dir)
  img_dir = os.path.join(seq_dir, 'img')
  _require_dir('otb', img_dir)
  gt_path = os.path.join(seq_dir, anno)
  _require_file('otb', gt_path)
  gt = results_lib.read_rows(gt_path)
  frames = list_images(img_dir)
  if start is not None or end is not None:
    lo, hi = start or 1, end or 10 ** 9
    frames = [f for f in frames if lo <= _frame_number(f) <= hi]
  frames, gt = frames[init_omit:], gt[init_omit:]
  _check_lengths(name, frames, gt, gt_path)
  return Sequence(name, frames, gt,
                  attributes={a: True for a in attributes}, pixel_origin=1.0)


def _otb_attributes(root, version):
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
  if version not in _OTB_VERSIONS:
    raise ValueError(f'unknown OTB version {version!r}; expected one of '
                     f'{sorted(_OTB_VERSIONS)}')
  root = os.fspath(root)
  _require_dir('otb', root)
  names = list(names) if names is not None else list(_OTB_VERSIONS[version])
  attrs = _otb_attributes(root, version)

  def spec(name):
    s = dict(tables.OTB_SPECIAL.get(name, {}))
    if name == 'Tiger1' and version == 'otb2013':
      s.pop('init_omit', None)  # The OTB-2013 table uses all 354 frames.
    return s

  missing = [n for n in names
             if not os.path.isdir(os.path.join(root, spec(n).get('folder', n)))]
  if missing:
    raise _missing('otb', os.path.join(root, missing[0]),
                   f'sequence folder ({len(missing)} of {len(names)} missing, '
                   f'e.g. {missing[:5]})')

  def load(name):
    s = spec(name)
    return _load_otb_sequence(
        root, name, s.get('folder', name), s.get('anno', 'groundtruth_rect.txt'),
        s.get('start'), s.get('end'), s.get('init_omit', 0),
        attrs.get(name, ()))

  return Dataset(version, root, names, load, 'otb', attrs)


def otb_folder(root, name='custom'):
  """Any folder in OTB layout: every ``<Seq>/img`` with ground truth is a sequence.

  ``<Seq>/groundtruth_rect.txt`` gives sequence ``Seq``; ``groundtruth_rect.k.txt``
  files give ``Seq.k`` (empty files are ignored). All frames of ``img/`` are
  used, 1-based file numbers in natural order.

  Args:
    root: the folder.
    name: dataset name used in reports.
  """
  root = os.fspath(root)
  _require_dir('otb', root)
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
    raise _missing('otb', os.path.join(root, '<Seq>', 'img'),
                   'sequence folder (none found)')
  attrs = _otb_attributes(root, name)

  def load(seq_name):
    folder, anno = entries[seq_name]
    return _load_otb_sequence(root, seq_name, folder, anno,
                              attributes=attrs.get(seq_name, ()))

  return Dataset(name, root, list(entries), load, 'otb', attrs)


# ---------------------------------------------------------------------------
# VOT.
# ---------------------------------------------------------------------------
VOT_YEARS = (2016, 2017, 2018)


def vot(root, year=2018, box_mode='bounds'):
  """VOT short-term 2016 / 2017 / 2018 (polygon ground truth).

  Args:
    root: folder with ``list.txt``.
    year: 2016, 2017 or 2018 (recorded as ``dataset.year`` for the EAO range).
    box_mode: how ``gt`` boxes come from polygons, see ``polygon_to_box``.

  Returns:
    Dataset whose sequences carry ``polygons`` [N, 8] and ``gt`` [N, 4]
    x, y, w, h, and per-frame tag arrays in ``attributes``.
  """
  root = os.fspath(root)
  _require_dir('vot', root)
  names = _read_list('vot', os.path.join(root, 'list.txt'))

  def load(name):
    seq_dir = os.path.join(root, name)
    gt_path, raw = _read_groundtruth('vot', seq_dir, widths=(4, 8))
    polys = box_to_polygon(raw) if raw.shape[1] == 4 else raw
    img_dir = os.path.join(seq_dir, 'color')
    frames = list_images(img_dir if os.path.isdir(img_dir) else seq_dir)
    _check_lengths(name, frames, polys, gt_path)
    attrs = {}
    for f in sorted(os.listdir(seq_dir)):
      stem, ext = os.path.splitext(f)
      if ext in ('.tag', '.label'):
        path = os.path.join(seq_dir, f)
        flags = np.zeros(len(frames), bool)
        if os.path.getsize(path):
          vals = results_lib.read_rows(path, widths=(1,))[:, 0].astype(bool)
          flags[:len(vals)] = vals[:len(frames)]
        attrs[stem] = flags
    return Sequence(name, frames, polygon_to_box(polys, box_mode), polys, attrs)

  ds = Dataset(f'vot{year}', root, names, load, 'otb')
  ds.year = int(year)
  return ds


# ---------------------------------------------------------------------------
# LaSOT.
# ---------------------------------------------------------------------------
def lasot(root, names: Optional[Seq[str]] = None):
  """LaSOT test split (280 sequences, protocol II) or a given subset.

  Args:
    root: ``LaSOTBenchmark`` folder (``<class>/<class>-<k>``), or a flat folder
      of ``<class>-<k>`` sequence folders.
    names: sequence names; default ``tables.LASOT_TEST``.
  """
  root = os.fspath(root)
  _require_dir('lasot', root)
  names = list(names) if names is not None else list(tables.LASOT_TEST)

  def seq_dir(name):
    nested = os.path.join(root, name.rsplit('-', 1)[0], name)
    flat = os.path.join(root, name)
    return nested if os.path.isdir(nested) or not os.path.isdir(flat) else flat

  missing = [n for n in names if not os.path.isdir(seq_dir(n))]
  if missing:
    raise _missing('lasot', seq_dir(missing[0]),
                   f'sequence folder ({len(missing)} of {len(names)} missing, '
                   f'e.g. {missing[:5]})')

  def load(name):
    d = seq_dir(name)
    gt_path, gt = _read_groundtruth('lasot', d)
    img_dir = os.path.join(d, 'img')
    _require_dir('lasot', img_dir)
    frames = list_images(img_dir)
    _check_lengths(name, frames, gt, gt_path)
    attrs = {}
    for tag in ('full_occlusion', 'out_of_view'):
      path = os.path.join(d, f'{tag}.txt')
      if os.path.isfile(path):
        attrs[tag] = _read_flags(path, len(frames))
    return Sequence(name, frames, gt, attributes=attrs, pixel_origin=1.0)

  return Dataset('lasot', root, names, load, 'otb')


# ---------------------------------------------------------------------------
# GOT-10k.
# ---------------------------------------------------------------------------
def got10k(root, split='val'):
  """GOT-10k val (full annotations) or test (first frame only).

  Args:
    root: folder holding ``val/`` and ``test/``, or the split folder itself.
    split: 'val' or 'test'.
  """
  if split not in ('val', 'test'):
    raise ValueError(f"split must be 'val' or 'test', got {split!r}")
  root = os.fspath(root)
  _require_dir('got10k', root)
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir) and os.path.isfile(
      os.path.join(root, 'list.txt')):
    split_dir = root
  _require_dir('got10k', split_dir)
  names = _read_list('got10k', os.path.join(split_dir, 'list.txt'))

  def load(name):
    d = os.path.join(split_dir, name)
    gt_path, gt = _read_groundtruth('got10k', d)
    frames = list_images(d)
    if len(gt) == 1 and len(frames) > 1:
      gt = _pad_first_frame_only(gt, len(frames))
    _check_lengths(name, frames, gt, gt_path)
    attrs = {}
    for tag in ('absence', 'cover', 'cut_by_image'):
      path = os.path.join(d, f'{tag}.label')
      if os.path.isfile(path):
        attrs[tag] = results_lib.read_rows(path, widths=(1,))[:, 0]
    return Sequence(name, frames, gt, attributes=attrs)

  return Dataset(f'got10k_{split}', root, names, load, 'got10k')


# ---------------------------------------------------------------------------
# TrackingNet.
# ---------------------------------------------------------------------------
def trackingnet(root, split='TEST'):
  """TrackingNet test set (511 sequences; first-frame annotation only).

  Args:
    root: folder holding ``TEST/`` (or the ``TEST`` folder itself).
    split: sub-folder name, 'TEST' by default ('TRAIN_0' ... also load).
  """
  root = os.fspath(root)
  _require_dir('trackingnet', root)
  split_dir = os.path.join(root, split)
  if not os.path.isdir(split_dir) and os.path.isdir(os.path.join(root, 'anno')):
    split_dir = root
  anno_dir = os.path.join(split_dir, 'anno')
  _require_dir('trackingnet', anno_dir)
  names = sorted(os.path.splitext(f)[0] for f in os.listdir(anno_dir)
                 if f.endswith('.txt'))

  def load(name):
    gt_path = os.path.join(anno_dir, f'{name}.txt')
    gt = results_lib.read_rows(gt_path)
    frame_dir = os.path.join(split_dir, 'frames', name)
    _require_dir('trackingnet', frame_dir)
    frames = list_images(frame_dir)
    if len(gt) == 1 and len(frames) > 1:
      gt = _pad_first_frame_only(gt, len(frames))
    _check_lengths(name, frames, gt, gt_path)
    return Sequence(name, frames, gt)

  return Dataset('trackingnet', root, names, load, 'otb')


# ---------------------------------------------------------------------------
# UAV123.
# ---------------------------------------------------------------------------
def uav123(root, split='UAV123'):
  """UAV123 (123 sequences) or UAV20L (20 long ones); NaN rows = target absent.

  Args:
    root: folder holding ``data_seq/`` and ``anno/``.
    split: 'UAV123' or 'UAV20L'.
  """
  table = {'UAV123': tables.UAV123, 'UAV20L': tables.UAV20L}.get(split)
  if table is None:
    raise ValueError(f"split must be 'UAV123' or 'UAV20L', got {split!r}")
  root = os.fspath(root)
  _require_dir('uav123', root)
  anno_dir = os.path.join(root, 'anno', split)
  _require_dir('uav123', anno_dir)
  names = list(table)

  def load(name):
    folder, start, end = table[name]
    gt_path = os.path.join(anno_dir, f'{name}.txt')
    _require_file('uav123', gt_path)
    gt = results_lib.read_rows(gt_path)
    img_dir = os.path.join(root, 'data_seq', 'UAV123', folder)
    _require_dir('uav123', img_dir)
    frames = [f for f in list_images(img_dir)
              if start <= _frame_number(f) <= end]
    _check_lengths(name, frames, gt, gt_path)
    return Sequence(name, frames, gt, pixel_origin=1.0)

  return Dataset(split.lower(), root, names, load, 'otb')


# ---------------------------------------------------------------------------
# By name.
# ---------------------------------------------------------------------------
DATASETS = ('otb2013', 'otb50', 'otb100', 'otb_folder', 'vot2016', 'vot2017',
            'vot2018', 'lasot', 'got10k_val', 'got10k_test', 'trackingnet',
            'uav123', 'uav20l')


def load_dataset(name, root):
  """Builds a Dataset by benchmark id (one of ``DATASETS``) and folder."""
  name = name.lower()
  if name in ('otb2013', 'otb50', 'otb100', 'otb2015'):
    return otb(root, name)
  if name in ('otb_folder', 'otb', 'custom'):
    return otb_folder(root)
  if name.startswith('vot') and name[3:].isdigit():
    year = int(name[3:])
    if year not in VOT_YEARS:
      raise ValueError(f'VOT year must be one of {VOT_YEARS}, got {year}')
    return vot(root, year)
  if name == 'lasot':
    return lasot(root)
  if name in ('got10k_val', 'got10k_test'):
    return got10k(root, name.split('_')[1])
  if name == 'trackingnet':
    return trackingnet(root)
  if name in ('uav123', 'uav20l'):
    return uav123(root, 'UAV123' if name == 'uav123' else 'UAV20L')
  raise ValueError(f'unknown dataset {name!r}; expected one of {DATASETS}')
