"""Readers of tracking-video folders: GOT-10k, LaSOT and ImageNet VID.

Each reader walks a folder in the layout its dataset is distributed in and
returns :class:`Video` records (paths and boxes only, no pixels). Boxes are
``x, y, w, h`` (top-left corner and size) in 0-based continuous pixels, width
= x2 - x1 (no "+1"):

* GOT-10k ``groundtruth.txt`` is 0-based ``x,y,w,h`` (the got10k toolkit);
  kept as is.
* LaSOT ``groundtruth.txt`` is 1-based (MATLAB toolkit): ``x - 1, y - 1``.
* ImageNet VID XML ``xmin, ymin, xmax, ymax`` are read as corners:
  ``w = xmax - xmin``.

A missing folder raises :class:`DatasetLayoutError` naming the path and the
expected layout; a line that is not four numbers raises
:class:`AnnotationError` naming the file and line. ``nan`` boxes are read as
"not annotated" (invisible), never as a box.
"""

import configparser
import dataclasses
import glob
import os
import re

import numpy as np

from spm_jax.data import xml_boxes
from spm_jax.data.errors import AnnotationError, DatasetLayoutError

GOT10K_LAYOUT = """GOT-10k: ROOT/train/<seq>/ (or ROOT/<seq>/) holding
  00000001.jpg ...      frames
  groundtruth.txt       x,y,w,h per frame (0-based)
  meta_info.ini         'object_class: <name>' line
  absence.label         optional, 1 = target absent, one per frame
  cover.label           optional, 0..8 visible share, 0 = fully covered"""

LASOT_LAYOUT = """LaSOT: ROOT/<class>/<class>-<n>/ holding
  img/00000001.jpg ...  frames
  groundtruth.txt       x,y,w,h per frame (1-based)
  full_occlusion.txt    comma-separated 0/1 per frame
  out_of_view.txt       comma-separated 0/1 per frame"""

VID_LAYOUT = """ImageNet VID: ROOT/Annotations/VID/<split>/**/<snippet>/000000.xml ...
  and ROOT/Data/VID/<split>/**/<snippet>/000000.JPEG ...; each XML has
  <filename>, and <object> elements with <trackid>, <name> (WordNet id),
  <bndbox><xmin><ymin><xmax><ymax></bndbox> and <occluded>"""


@dataclasses.dataclass
class Track:
  """One object through a video.

  Attributes:
    track_id: id unique within the video.
    category: class name (GOT-10k object class, LaSOT class, VID WordNet id).
    boxes: [T, 4] float32 x, y, w, h (0-based continuous pixels); rows where
      ``present`` is False are 0.
    present: [T] bool, the object is annotated in the frame.
    visible: [T] bool, present and not occluded / out of view.
  """
  track_id: int
  category: str
  boxes: np.ndarray
  present: np.ndarray
  visible: np.ndarray


@dataclasses.dataclass
class Video:
  """A video: ``frames`` [T] image paths and its tracks."""
  name: str
  frames: list
  tracks: list


def _require_dir(path, layout):
  if not os.path.isdir(path):
    raise DatasetLayoutError(f'{path}: folder not found. Expected layout:\n{layout}')


def read_box_file(path, one_based=False):
  """Reads ``x,y,w,h`` lines (comma, tab or space separated).

  Args:
    path: annotation file.
    one_based: subtract 1 from x and y (LaSOT/OTB files).

  Returns:
    ``(boxes, valid)``: [T, 4] float32 x, y, w, h (0 where invalid) and [T]
    bool, False for ``nan`` lines and boxes with zero width or height.

  Raises:
    AnnotationError: a line is not four numbers, has an infinite value or a
      negative size.
  """
  boxes, valid = [], []
  with open(path) as f:
    for lineno, line in enumerate(f, 1):
      line = line.strip()
      if not line:
        continue
      parts = [p for p in re.split(r'[,\s]+', line) if p]
      try:
        vals = [float(p) for p in parts]
      except ValueError:
        vals = []
      if len(vals) != 4:
        raise AnnotationError(f'{path}:{lineno}: expected four numbers "x,y,w,h", got {line!r}')
      box = np.asarray(vals, np.float64)
      if np.isnan(box).any():
        boxes.append(np.zeros(4))
        valid.append(False)
        continue
      if np.isinf(box).any():
        raise AnnotationError(f'{path}:{lineno}: infinite value in {line!r}')
      if box[2] < 0 or box[3] < 0:
        raise AnnotationError(f'{path}:{lineno}: negative width or height in {line!r}')
      if one_based:
        box[:2] -= 1
      boxes.append(box)
      valid.append(bool(box[2] > 0 and box[3] > 0))
  if not boxes:
    raise AnnotationError(f'{path}: no boxes')
  return np.asarray(boxes, np.float32), np.asarray(valid, bool)


def read_flag_file(path, num_frames):
  """[num_frames] int64 flags from a file of integers (comma/space/newline separated)."""
  with open(path) as f:
    text = f.read()
  parts = [p for p in re.split(r'[,\s]+', text) if p]
  try:
    flags = np.asarray([int(float(p)) for p in parts], np.int64)
  except ValueError as e:
    raise AnnotationError(f'{path}: expected integers: {e}') from None
  if flags.size != num_frames:
    raise AnnotationError(f'{path}: {flags.size} flags for {num_frames} frames')
  return flags


def _check_count(path, boxes, frames):
  if len(boxes) != len(frames):
    raise AnnotationError(f'{path}: {len(boxes)} boxes for {len(frames)} frames')


def read_got10k(root):
  """GOT-10k sequences under ``root`` (see ``GOT10K_LAYOUT``) -> [Video]."""
  _require_dir(root, GOT10K_LAYOUT)
  base = os.path.join(root, 'train') if os.path.isdir(os.path.join(root, 'train')) else root
  seq_dirs = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(base, '*', 'groundtruth.txt')))
  if not seq_dirs:
    raise DatasetLayoutError(f'{base}: no sequence folders with groundtruth.txt. '
                             f'Expected layout:\n{GOT10K_LAYOUT}')
  videos = []
  for seq in seq_dirs:
    frames = sorted(glob.glob(os.path.join(seq, '*.jpg')))
    gt_path = os.path.join(seq, 'groundtruth.txt')
    boxes, valid = read_box_file(gt_path)
    _check_count(gt_path, boxes, frames)
    visible = valid.copy()
    absence = os.path.join(seq, 'absence.label')
    if os.path.exists(absence):
      visible &= read_flag_file(absence, len(frames)) == 0
    cover = os.path.join(seq, 'cover.label')
    if os.path.exists(cover):
      visible &= read_flag_file(cover, len(frames)) > 0
    meta = os.path.join(seq, 'meta_info.ini')
    category = _got10k_class(meta)
    videos.append(Video(os.path.basename(seq), frames,
                        [Track(0, category, boxes, valid, visible)]))
  return videos


def _got10k_class(path):
  """The ``object_class`` of a GOT-10k ``meta_info.ini``."""
  if not os.path.exists(path):
    raise DatasetLayoutError(f'{path}: missing; it names the object class. '
                             f'Expected layout:\n{GOT10K_LAYOUT}')
  with open(path) as f:
    for line in f:
      key, sep, value = line.partition(':')
      if sep and key.strip() == 'object_class':
        return value.strip()
  raise AnnotationError(f'{path}: no "object_class: <name>" line')


def read_lasot(root):
  """LaSOT sequences under ``root`` (see ``LASOT_LAYOUT``) -> [Video]."""
  _require_dir(root, LASOT_LAYOUT)
  seq_dirs = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(root, '*', '*', 'groundtruth.txt')))
  if not seq_dirs:
    raise DatasetLayoutError(f'{root}: no <class>/<class>-<n>/groundtruth.txt found. '
                             f'Expected layout:\n{LASOT_LAYOUT}')
  videos = []
  for seq in seq_dirs:
    _require_dir(os.path.join(seq, 'img'), LASOT_LAYOUT)
    frames = sorted(glob.glob(os.path.join(seq, 'img', '*.jpg')))
    gt_path = os.path.join(seq, 'groundtruth.txt')
    boxes, valid = read_box_file(gt_path, one_based=True)
    _check_count(gt_path, boxes, frames)
    visible = valid.copy()
    for name in ('full_occlusion.txt', 'out_of_view.txt'):
      path = os.path.join(seq, name)
      if not os.path.exists(path):
        raise DatasetLayoutError(f'{path}: missing. Expected layout:\n{LASOT_LAYOUT}')
      visible &= read_flag_file(path, len(frames)) == 0
    category = os.path.basename(os.path.dirname(seq))
    videos.append(Video(os.path.basename(seq), frames, [Track(0, category, boxes, valid, visible)]))
  return videos


def _read_vid_xml(path):
  """One VID frame annotation -> (filename, [(trackid, name, x1, y1, x2, y2, occluded)])."""
  root = xml_boxes.parse(path)
  objects = []
  for obj in root.findall('object'):
    try:
      tid = int(xml_boxes.text(obj, 'trackid', path))
    except ValueError as e:
      raise AnnotationError(f'{path}: non-numeric value ({e})') from None
    x1, y1, x2, y2 = xml_boxes.corners(obj, path, f'track {tid}')
    occ = obj.find('occluded')
    occluded = occ is not None and occ.text is not None and occ.text.strip() == '1'
    objects.append((tid, xml_boxes.text(obj, 'name', path), x1, y1, x2, y2, occluded))
  return xml_boxes.text(root, 'filename', path), objects


def read_imagenet_vid(root, split='train'):
  """ImageNet VID snippets of ``split`` under ``root`` (see ``VID_LAYOUT``) -> [Video]."""
  ann_root = os.path.join(root, 'Annotations', 'VID', split)
  data_root = os.path.join(root, 'Data', 'VID', split)
  _require_dir(ann_root, VID_LAYOUT)
  _require_dir(data_root, VID_LAYOUT)
  snippets = sorted({os.path.dirname(p) for p in
                     glob.glob(os.path.join(ann_root, '**', '*.xml'), recursive=True)})
  if not snippets:
    raise DatasetLayoutError(f'{ann_root}: no XML annotations. Expected layout:\n{VID_LAYOUT}')
  videos = []
  for snip in snippets:
    rel = os.path.relpath(snip, ann_root)
    xmls = sorted(glob.glob(os.path.join(snip, '*.xml')))
    frames, per_frame = [], []
    for x in xmls:
      filename, objects = _read_vid_xml(x)
      if not os.path.splitext(filename)[1]:
        filename += '.JPEG'
      frames.append(os.path.join(data_root, rel, filename))
      per_frame.append(objects)
    num = len(frames)
    tracks = {}
    for t, objects in enumerate(per_frame):
      for tid, name, x1, y1, x2, y2, occluded in objects:
        if tid not in tracks:
          tracks[tid] = Track(tid, name, np.zeros((num, 4), np.float32), np.zeros(num, bool),
                              np.zeros(num, bool))
        tr = tracks[tid]
        tr.boxes[t] = (x1, y1, x2 - x1, y2 - y1)
        tr.present[t] = True
        tr.visible[t] = (not occluded) and x2 > x1 and y2 > y1
    videos.append(Video(rel.replace(os.sep, '/'), frames, [tracks[k] for k in sorted(tracks)]))
  return videos


READERS = {
    'got10k': (read_got10k, GOT10K_LAYOUT),
    'lasot': (read_lasot, LASOT_LAYOUT),
    'imagenet_vid': (read_imagenet_vid, VID_LAYOUT),
}
