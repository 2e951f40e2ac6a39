"""Reader of MOTChallenge-format labelled videos (``gt.txt``), e.g. one's own.

A sequence folder holds its frames (``img1/000001.jpg ...``) and ``gt/gt.txt``
(or ``gt.txt``) with one line per object and frame::

  frame, id, bb_left, bb_top, width, height[, conf[, class[, visibility]]]

``frame`` is 1-based and boxes are 1-based pixels (MOTChallenge): stored as
``x - 1, y - 1, w, h`` (0-based continuous pixels). An object is *present* in
every frame it has a line for, and *visible* unless ``conf`` is 0 (MOT16/17:
not to be considered) or ``visibility`` is given (>= 0) and under
:data:`MIN_VISIBILITY`; MOT15's ``-1`` columns mean "not given". ``class`` ids
are named by ``gt/labels.txt`` (CVAT's MOT export: one name a line, id 1 first)
when present, else by the MOT16/17 table; a missing or negative class is
``object``. ``seqinfo.ini`` ([Sequence] ``imDir``, ``imExt``, ``seqLength``),
when present, names the frame files ``<imDir>/<frame:06d><imExt>``; without it
the images of ``img1/`` in name order are frames 1, 2, ...
"""

import configparser
import glob
import os

import numpy as np

from spm_jax.data.errors import AnnotationError, DatasetLayoutError
from spm_jax.data.still_layouts import IMAGE_EXTENSIONS
from spm_jax.data.video_layouts import Track, Video

MOT_LAYOUT = ('MOT: ROOT/<seq>/ (or ROOT/<split>/<seq>/) holding img1/000001.jpg ... and gt/gt.txt '
              '(or gt.txt) with "frame,id,x,y,w,h[,conf,class,visibility]" lines (1-based), '
              'optional seqinfo.ini and gt/labels.txt')

MIN_VISIBILITY = 0.3  # Visible share below which an object is not visible (as the procedural videos).

# MOT16/17 ground-truth classes (Milan et al. 2016, table 3).
MOT_CLASSES = {
    1: 'pedestrian', 2: 'person_on_vehicle', 3: 'car', 4: 'bicycle', 5: 'motorbike',
    6: 'non_motorized_vehicle', 7: 'static_person', 8: 'distractor', 9: 'occluder',
    10: 'occluder_on_ground', 11: 'occluder_full', 12: 'reflection'}


def _gt_path(seq):
  for rel in (os.path.join('gt', 'gt.txt'), 'gt.txt'):
    if os.path.isfile(os.path.join(seq, rel)):
      return os.path.join(seq, rel)
  return None


def find_sequences(root, split=''):
  """Sequence folders (holding ``gt/gt.txt`` or ``gt.txt``) of ``split`` under ``root``."""
  base = os.path.join(root, split) if split else root
  if not os.path.isdir(base):
    raise DatasetLayoutError(f'{base}: folder not found; expected {MOT_LAYOUT}')
  if _gt_path(base):
    return [base]
  seqs = [d for d in sorted(glob.glob(os.path.join(glob.escape(base), '*'))) if _gt_path(d)]
  if not seqs and not split:
    seqs = [d for d in sorted(glob.glob(os.path.join(glob.escape(base), '*', '*'))) if _gt_path(d)]
  if not seqs:
    raise DatasetLayoutError(f'{base}: no sequence folder with gt/gt.txt; expected {MOT_LAYOUT}')
  return seqs


def _frame_paths(seq, max_frame):
  """[T] frame paths of a sequence (see the module docstring)."""
  info = os.path.join(seq, 'seqinfo.ini')
  if os.path.isfile(info):
    parser = configparser.ConfigParser()
    try:
      parser.read(info)
      sec = parser['Sequence']
      im_dir, im_ext = sec.get('imDir', 'img1'), sec.get('imExt', '.jpg')
      length = int(sec.get('seqLength', max_frame))
    except (configparser.Error, KeyError, ValueError) as e:
      raise AnnotationError(f'{info}: malformed ({str(e).splitlines()[0]})') from None
    if max_frame > length:
      raise AnnotationError(f'{_gt_path(seq)}: frame {max_frame} past seqLength {length}')
    return [os.path.join(seq, im_dir, f'{t:06d}{im_ext}') for t in range(1, length + 1)]
  img_dir = os.path.join(seq, 'img1')
  if not os.path.isdir(img_dir):
    raise DatasetLayoutError(f'{img_dir}: folder not found; expected {MOT_LAYOUT}')
  frames = sorted(p for p in glob.glob(os.path.join(glob.escape(img_dir), '*'))
                  if p.lower().endswith(IMAGE_EXTENSIONS))
  if len(frames) < max_frame:
    raise AnnotationError(f'{_gt_path(seq)}: frame {max_frame} but {img_dir} has {len(frames)} images')
  return frames


def _class_names(seq):
  path = os.path.join(seq, 'gt', 'labels.txt')
  if not os.path.isfile(path):
    return MOT_CLASSES
  with open(path) as f:
    names = [line.strip() for line in f if line.strip()]
  return {i + 1: n for i, n in enumerate(names)}


def read_gt(path):
  """A ``gt.txt`` -> [L, 9] float64 rows frame, id, x, y, w, h, conf, class, visibility.

  Missing columns are filled with conf 1, class -1, visibility -1.
  """
  rows = []
  with open(path) as f:
    for lineno, line in enumerate(f, 1):
      parts = [p for p in line.replace(',', ' ').split() if p]
      if not parts:
        continue
      try:
        vals = [float(p) for p in parts]
      except ValueError:
        vals = []
      if len(vals) < 6:
        raise AnnotationError(f'{path}:{lineno}: expected "frame,id,x,y,w,h[,conf,class,visibility]",'
                              f' got {line.strip()!r}')
      vals = vals[:9] + [1.0, -1.0, -1.0][max(len(vals) - 6, 0):]
      if not np.all(np.isfinite(vals[:6])):
        raise AnnotationError(f'{path}:{lineno}: NaN or infinite value in {line.strip()!r}')
      if vals[0] < 1 or vals[0] != int(vals[0]):
        raise AnnotationError(f'{path}:{lineno}: frame must be an integer >= 1, got {parts[0]!r}')
      if vals[4] < 0 or vals[5] < 0:
        raise AnnotationError(f'{path}:{lineno}: negative width or height in {line.strip()!r}')
      rows.append(vals)
  if not rows:
    raise AnnotationError(f'{path}: no boxes')
  return np.asarray(rows, np.float64)


def read_mot(root, split=''):
  """MOT-format sequences of ``split`` ('' = all) under ``root`` (see ``MOT_LAYOUT``) -> [Video]."""
  videos = []
  for seq in find_sequences(root, split):
    gt_path = _gt_path(seq)
    rows = read_gt(gt_path)
    frames = _frame_paths(seq, int(rows[:, 0].max()))
    names = _class_names(seq)
    num = len(frames)
    tracks = {}
    for frame, tid, x, y, w, h, conf, cls, vis in rows:
      tid, t = int(tid), int(frame) - 1
      if tid not in tracks:
        cls = int(cls)
        name = 'object' if cls < 0 else names.get(cls, f'class_{cls}')
        tracks[tid] = Track(tid, name, np.zeros((num, 4), np.float32), np.zeros(num, bool),
                            np.zeros(num, bool))
      tr = tracks[tid]
      if tr.present[t]:
        raise AnnotationError(f'{gt_path}: two lines for object {tid} in frame {t + 1}')
      tr.boxes[t] = (x - 1, y - 1, w, h)
      tr.present[t] = True
      tr.visible[t] = conf != 0 and (vis < 0 or vis >= MIN_VISIBILITY) and w > 0 and h > 0
    name = os.path.relpath(seq, root).replace(os.sep, '/') if seq != root else os.path.basename(seq)
    videos.append(Video(name, frames, [tracks[k] for k in sorted(tracks)]))
  return videos
