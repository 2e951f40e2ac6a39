"""Sequence and Dataset, the types every benchmark loader returns, and their file helpers.

Boxes are ``[N, 4]`` float64 rows of ``x, y, w, h`` in pixels, ``x, y`` the
top-left corner, row ``i`` for frame ``i``; a NaN row marks a frame without
annotation. ``Sequence.pixel_origin`` says which number a benchmark's files give
the image's first pixel (1 for the MATLAB-made ones, 0 otherwise).
"""

import dataclasses
import logging
import os
import re
from typing import Callable, Optional

import numpy as np

from spm_jax.data import image_io
from spm_jax.evaluation import results as results_lib

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')


class DatasetNotFoundError(FileNotFoundError):
  """A benchmark folder or file is missing; the message gives the layout."""


@dataclasses.dataclass(frozen=True)
class Layout:
  """A benchmark's folder layout, named in every error of its loader.

  Attributes:
    kind: the benchmark's family, e.g. 'otb' (the first word of the errors).
    text: the layout in one line, ``<root>`` the folder given to the loader.
  """
  kind: str
  text: str

  def missing(self, path, what='folder'):
    """DatasetNotFoundError naming ``path`` and this layout."""
    return DatasetNotFoundError(
        f'{self.kind} {what} not found: {path}\nExpected layout: {self.text}')

  def require_dir(self, path):
    if not os.path.isdir(path):
      raise self.missing(path)

  def require_file(self, path):
    if not os.path.isfile(path):
      raise self.missing(path, 'file')

  def read_list(self, path):
    """Non-empty stripped lines of a list file (``list.txt``)."""
    self.require_file(path)
    with open(path) as f:
      return [line.strip() for line in f if line.strip()]

  def read_groundtruth(self, seq_dir, **kwargs):
    """``(path, rows)`` of ``seq_dir/groundtruth.txt``; a missing folder or file is named.

    ``kwargs`` go to :func:`spm_jax.evaluation.results.read_rows` (``widths``).
    """
    self.require_dir(seq_dir)
    path = os.path.join(seq_dir, 'groundtruth.txt')
    self.require_file(path)
    return path, results_lib.read_rows(path, **kwargs)


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
    init: [4] x, y, w, h the tracker starts from, when not ``gt[0]`` (OTB's
      SRE, :mod:`spm_jax.evaluation.protocols`); None: ``gt[0]``.
  """
  name: str
  frames: list
  gt: np.ndarray
  polygons: Optional[np.ndarray] = None
  attributes: dict = dataclasses.field(default_factory=dict)
  pixel_origin: float = 0.0
  init: Optional[np.ndarray] = None

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
    """[4] x, y, w, h the tracker starts from (pixels, the files' numbers): ``init`` or ``gt[0]``."""
    return self.gt[0] if self.init is None else np.asarray(self.init, np.float64)

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


def frame_number(path):
  """The last number in a file's name (``img/0012.jpg`` -> 12), -1 when none."""
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
  return sorted(paths, key=lambda p: (frame_number(p), p))


def check_lengths(name, frames, gt, gt_path):
  """ValueError naming ``gt_path`` when frames and boxes differ in number."""
  if len(frames) != len(gt):
    raise ValueError(f'{name}: {len(frames)} frames but {len(gt)} boxes in '
                     f'{gt_path}')


def missing_sequences(layout, names, seq_dir):
  """Raises ``layout.missing`` when some of ``names`` have no folder ``seq_dir(name)``."""
  missing = [n for n in names if not os.path.isdir(seq_dir(n))]
  if missing:
    raise layout.missing(seq_dir(missing[0]),
                         f'sequence folder ({len(missing)} of {len(names)} missing, '
                         f'e.g. {missing[:5]})')


def pad_first_frame_only(gt, n):
  """Test splits give the first box only: [1, 4] x, y, w, h -> [n, 4] with NaN rows."""
  out = np.full((n, 4), np.nan)
  out[:len(gt)] = gt[:n]
  return out
