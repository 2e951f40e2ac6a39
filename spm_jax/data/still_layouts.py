"""Readers of still-image detection folders: YOLO text labels and Pascal VOC XML.

Each reader walks a folder and returns :class:`LabelledImage` records (paths and
boxes, no pixels); images without any box are dropped (they cannot give a pair).

* YOLO ``class cx cy w h`` lines are normalised to [0, 1] by the image size,
  which is only known once the image is decoded: records keep them normalised
  (``normalized=True``) and :func:`to_pixels` converts,
  ``x = (cx - w / 2) * W``, ``w = w * W`` (continuous pixels, no offset), then
  clips to the image. A polygon line ``class x1 y1 x2 y2 ...`` (YOLO
  segmentation labels) gives the box around its points.
* Pascal VOC ``xmin, ymin, xmax, ymax`` are 1-based inclusive pixel indices
  (the VOC devkit; labelImg writes them so): ``x = xmin - 1``,
  ``w = xmax - xmin + 1`` in 0-based continuous pixels. ``difficult`` objects
  are kept but not visible (never a template; same-category anchors on them
  are ignored).

A folder that is not in the layout raises :class:`DatasetLayoutError` naming
the folder and the expected layout; a malformed label raises
:class:`AnnotationError` naming the file (and line).
"""

import dataclasses
import glob
import logging
import os

import numpy as np
import yaml

from spm_jax.data import xml_boxes
from spm_jax.data.errors import AnnotationError, DatasetLayoutError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')

YOLO_LAYOUT = ('YOLO: ROOT/images/<split>/*.jpg with ROOT/labels/<split>/*.txt (or ROOT/<split>/images '
               'with ROOT/<split>/labels, or ROOT/images with ROOT/labels), one "class cx cy w h" '
               'line per box normalised to [0, 1]; class names in ROOT/data.yaml, classes.yaml '
               '(names:) or classes.txt (one a line)')

VOC_LAYOUT = ('Pascal VOC: XML files anywhere under ROOT (e.g. ROOT/Annotations/*.xml) with <filename> '
              'naming an image under ROOT (e.g. ROOT/JPEGImages/) and <object><name> + <bndbox> '
              '<xmin><ymin><xmax><ymax> (1-based); split = ROOT/ImageSets/Main/<split>.txt or the '
              'folder ROOT/<split>')

_NAME_FILES_YAML = ('data.yaml', 'classes.yaml', 'dataset.yaml')
_NAME_FILES_TXT = ('classes.txt', 'obj.names', 'classes.names')


@dataclasses.dataclass
class LabelledImage:
  """One annotated image.

  Attributes:
    path: image file.
    name: image path relative to the dataset folder.
    boxes: [N, 4] float32; x, y, w, h in 0-based continuous pixels, or
      cx, cy, w, h normalised to [0, 1] when ``normalized``.
    categories: [N] class names.
    visible: [N] bool.
    normalized: boxes are YOLO-normalised (see :func:`to_pixels`).
  """
  path: str
  name: str
  boxes: np.ndarray
  categories: list
  visible: np.ndarray
  normalized: bool = False


def to_pixels(image, height, width):
  """Boxes of ``image`` for an image of ``height`` x ``width`` pixels.

  Returns:
    ``(boxes, keep)``: [N, 4] float32 x, y, w, h in 0-based continuous pixels,
    clipped to the image, and [N] bool, False for boxes under one pixel wide
    or high after clipping (to drop).
  """
  b = np.asarray(image.boxes, np.float64).reshape(-1, 4)
  if image.normalized:
    size = np.asarray([width, height, width, height], np.float64)
    b = np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], -1) * size
  else:
    b = np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], -1)
  b = np.clip(b, 0, [width, height, width, height])
  wh = b[:, 2:] - b[:, :2]
  keep = (wh >= 1).all(-1)
  return np.concatenate([b[:, :2], wh], -1).astype(np.float32), keep


def images_under(folder):
  """Sorted image files under ``folder`` (recursive)."""
  paths = glob.glob(os.path.join(glob.escape(folder), '**', '*'), recursive=True)
  return sorted(p for p in paths if p.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(p))


# ----------------------------------------------------------------------------
# YOLO.
# ----------------------------------------------------------------------------

def yolo_class_names(root):
  """Class names of a YOLO folder (``names:`` of a YAML file, or a names text file).

  Returns:
    dict class id -> name, or None when the folder has no names file.
  """
  for fname in _NAME_FILES_YAML:
    path = os.path.join(root, fname)
    if not os.path.isfile(path):
      continue
    try:
      with open(path) as f:
        data = yaml.safe_load(f)
    except yaml.YAMLError as e:
      raise AnnotationError(f'{path}: malformed YAML ({str(e).splitlines()[0]})') from None
    names = data.get('names') if isinstance(data, dict) else None
    if isinstance(names, dict):
      return {int(k): str(v) for k, v in names.items()}
    if isinstance(names, list):
      return {i: str(v) for i, v in enumerate(names)}
    raise AnnotationError(f'{path}: no "names:" list or mapping of class names')
  for fname in _NAME_FILES_TXT:
    path = os.path.join(root, fname)
    if os.path.isfile(path):
      with open(path) as f:
        lines = [line.strip() for line in f]
      while lines and not lines[-1]:
        lines.pop()
      return dict(enumerate(lines))
  return None


def _yolo_dirs(root, split):
  """[(images folder, labels folder, name prefix)] of ``split`` ('' = every split)."""
  if split:
    for images, labels in ((os.path.join(root, 'images', split), os.path.join(root, 'labels', split)),
                           (os.path.join(root, split, 'images'), os.path.join(root, split, 'labels'))):
      if os.path.isdir(images) and os.path.isdir(labels):
        return [(images, labels, split)]
    raise DatasetLayoutError(f'{root}: no images/labels folders of split {split!r}; expected '
                             f'{YOLO_LAYOUT}')
  pairs = []
  img_root, lbl_root = os.path.join(root, 'images'), os.path.join(root, 'labels')
  if os.path.isdir(img_root) and os.path.isdir(lbl_root):
    subs = sorted(d for d in os.listdir(img_root)
                  if os.path.isdir(os.path.join(img_root, d)) and os.path.isdir(os.path.join(lbl_root, d)))
    pairs += [(os.path.join(img_root, d), os.path.join(lbl_root, d), d) for d in subs]
    if not subs:
      pairs.append((img_root, lbl_root, ''))
  if os.path.isdir(root):
    for d in sorted(os.listdir(root)):
      images, labels = os.path.join(root, d, 'images'), os.path.join(root, d, 'labels')
      if os.path.isdir(images) and os.path.isdir(labels):
        pairs.append((images, labels, d))
  if not pairs:
    raise DatasetLayoutError(f'{root}: no images/ and labels/ folders; expected {YOLO_LAYOUT}')
  return pairs


def read_yolo_labels(path, names):
  """One YOLO label file -> ([N, 4] normalised cx, cy, w, h, [N] class names)."""
  boxes, cats = [], []
  with open(path) as f:
    for lineno, line in enumerate(f, 1):
      parts = line.split()
      if not parts:
        continue
      try:
        cls = int(float(parts[0]))
        vals = np.asarray([float(p) for p in parts[1:]], np.float64)
      except ValueError:
        raise AnnotationError(f'{path}:{lineno}: expected "class cx cy w h", got {line.strip()!r}') from None
      if len(vals) == 4:
        box = vals
      elif len(vals) >= 6 and len(vals) % 2 == 0:  # Polygon x1 y1 x2 y2 ...
        xy = vals.reshape(-1, 2)
        lo, hi = xy.min(0), xy.max(0)
        box = np.concatenate([(lo + hi) / 2, hi - lo])
      else:
        raise AnnotationError(f'{path}:{lineno}: expected "class cx cy w h", got {line.strip()!r}')
      if not np.all(np.isfinite(box)):
        raise AnnotationError(f'{path}:{lineno}: NaN or infinite value in {line.strip()!r}')
      if box[2] < 0 or box[3] < 0:
        raise AnnotationError(f'{path}:{lineno}: negative width or height in {line.strip()!r}')
      if names is None:
        name = f'class_{cls}'
      elif cls in names:
        name = names[cls]
      else:
        raise AnnotationError(f'{path}:{lineno}: class {cls} has no name ({len(names)} names known)')
      boxes.append(box)
      cats.append(name)
  return np.asarray(boxes, np.float32).reshape(-1, 4), cats


def read_yolo(root, split=''):
  """Images of ``split`` ('' = all) of a YOLO folder (see ``YOLO_LAYOUT``) -> [LabelledImage]."""
  if not os.path.isdir(root):
    raise DatasetLayoutError(f'{root}: folder not found; expected {YOLO_LAYOUT}')
  names = yolo_class_names(root)
  if names is None:
    logger.warning('%s: no data.yaml, classes.yaml or classes.txt; classes are named class_<id>', root)
  images = []
  for img_dir, lbl_dir, prefix in _yolo_dirs(root, split):
    for path in images_under(img_dir):
      rel = os.path.relpath(path, img_dir)
      lbl = os.path.join(lbl_dir, os.path.splitext(rel)[0] + '.txt')
      if not os.path.isfile(lbl):
        continue  # A background image: no objects.
      boxes, cats = read_yolo_labels(lbl, names)
      if not cats:
        continue
      images.append(LabelledImage(
          path=path, name=os.path.join(prefix, rel).replace(os.sep, '/'), boxes=boxes,
          categories=cats, visible=np.ones(len(cats), bool), normalized=True))
  if not images:
    raise DatasetLayoutError(f'{root}: no image with a non-empty label file; expected {YOLO_LAYOUT}')
  return images


# ----------------------------------------------------------------------------
# Pascal VOC.
# ----------------------------------------------------------------------------

def read_voc_xml(path):
  """One VOC XML file -> (filename, [N, 4] x, y, w, h 0-based pixels, [N] names, [N] visible)."""
  root = xml_boxes.parse(path)
  boxes, names, visible = [], [], []
  for obj in root.findall('object'):
    name = xml_boxes.text(obj, 'name', path)
    x1, y1, x2, y2 = xml_boxes.corners(obj, path, repr(name))
    difficult = obj.find('difficult')
    boxes.append((x1 - 1, y1 - 1, x2 - x1 + 1, y2 - y1 + 1))
    names.append(name)
    visible.append(not (difficult is not None and (difficult.text or '').strip() == '1'))
  filename = xml_boxes.text(root, 'filename', path)
  return filename, np.asarray(boxes, np.float32).reshape(-1, 4), names, np.asarray(visible, bool)


def _voc_xmls(root, split):
  """Sorted XML files of ``split`` ('' = all) under ``root``."""
  if not split:
    base, keep = root, None
  else:
    lists = glob.glob(os.path.join(glob.escape(root), '**', 'ImageSets', 'Main', f'{split}.txt'),
                      recursive=True)
    if lists:
      with open(lists[0]) as f:
        keep = {line.split()[0] for line in f if line.strip()}
      base = os.path.dirname(os.path.dirname(os.path.dirname(lists[0])))
    elif os.path.isdir(os.path.join(root, split)):
      base, keep = os.path.join(root, split), None
    else:
      raise DatasetLayoutError(f'{root}: neither ImageSets/Main/{split}.txt nor a folder {split}/; '
                               f'expected {VOC_LAYOUT}')
  xmls = sorted(glob.glob(os.path.join(glob.escape(base), '**', '*.xml'), recursive=True))
  if keep is not None:
    xmls = [x for x in xmls if os.path.splitext(os.path.basename(x))[0] in keep]
  return xmls


def _find_image(xml_path, filename, by_name, by_stem):
  """The image an XML names: beside it, else the one of that name (or stem) nearest to it."""
  base = os.path.basename(filename.replace('\\', '/'))
  beside = os.path.join(os.path.dirname(xml_path), base)
  if os.path.isfile(beside):
    return beside
  found = by_name.get(base) or by_stem.get(os.path.splitext(base)[0]) \
      or by_stem.get(os.path.splitext(os.path.basename(xml_path))[0])
  if not found:
    return None
  parent = os.path.dirname(os.path.dirname(xml_path))
  near = [p for p in found if os.path.dirname(os.path.dirname(p)) == parent]
  return (near or found)[0]


def read_voc(root, split=''):
  """Images of ``split`` ('' = all) of a Pascal VOC folder (see ``VOC_LAYOUT``) -> [LabelledImage].

  An XML whose image is not found gives a record whose ``path`` does not exist
  (the builder counts it as an unreadable image).
  """
  if not os.path.isdir(root):
    raise DatasetLayoutError(f'{root}: folder not found; expected {VOC_LAYOUT}')
  xmls = _voc_xmls(root, split)
  if not xmls:
    raise DatasetLayoutError(f'{root}: no XML annotation files; expected {VOC_LAYOUT}')
  by_name, by_stem = {}, {}
  for p in images_under(root):
    by_name.setdefault(os.path.basename(p), []).append(p)
    by_stem.setdefault(os.path.splitext(os.path.basename(p))[0], []).append(p)
  images, missing = [], 0
  for x in xmls:
    filename, boxes, names, visible = read_voc_xml(x)
    if not names:
      continue
    path = _find_image(x, filename, by_name, by_stem)
    if path is None:
      missing += 1
      path = os.path.join(os.path.dirname(x), filename)
    images.append(LabelledImage(path=path, name=os.path.relpath(path, root).replace(os.sep, '/'),
                                boxes=boxes, categories=names, visible=visible))
  if not images:
    raise DatasetLayoutError(f'{root}: no XML file with an <object>; expected {VOC_LAYOUT}')
  if missing == len(images):
    raise DatasetLayoutError(f'{root}: no image named by the XML files was found; expected {VOC_LAYOUT}')
  return images
