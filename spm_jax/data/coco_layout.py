"""Reader of COCO-style still-image detection folders (instances JSON).

Boxes are COCO ``bbox`` = ``x, y, w, h`` in 0-based continuous pixels (width
= x2 - x1), kept as is. Crowd annotations and boxes smaller than one pixel
are dropped; images left without boxes are dropped (they cannot give a pair).
"""

import dataclasses
import json
import os

import numpy as np

from spm_jax.data.errors import AnnotationError, DatasetLayoutError

COCO_LAYOUT = """COCO: ROOT/annotations/instances_<split>.json and ROOT/<split>/<file_name>
  (e.g. instances_train2017.json and train2017/000000000009.jpg); the JSON has
  'images' (id, file_name), 'annotations' (image_id, category_id, bbox x,y,w,h,
  iscrowd) and 'categories' (id, name)"""


@dataclasses.dataclass
class StillImage:
  """One annotated image.

  Attributes:
    path: image file.
    image_id: the dataset's image id.
    boxes: [N, 4] float32 x, y, w, h (0-based continuous pixels).
    categories: [N] class names.
  """
  path: str
  image_id: int
  boxes: np.ndarray
  categories: list


def read_coco(root, split='train2017'):
  """Images of ``split`` with at least one usable box (see ``COCO_LAYOUT``) -> [StillImage]."""
  ann_path = os.path.join(root, 'annotations', f'instances_{split}.json')
  img_dir = os.path.join(root, split)
  if not os.path.isfile(ann_path):
    raise DatasetLayoutError(f'{ann_path}: annotation file not found. Expected layout:\n{COCO_LAYOUT}')
  if not os.path.isdir(img_dir):
    raise DatasetLayoutError(f'{img_dir}: image folder not found. Expected layout:\n{COCO_LAYOUT}')
  try:
    with open(ann_path) as f:
      data = json.load(f)
  except json.JSONDecodeError as e:
    raise AnnotationError(f'{ann_path}: malformed JSON ({e})') from None
  for key in ('images', 'annotations', 'categories'):
    if key not in data:
      raise AnnotationError(f'{ann_path}: no {key!r} list')
  names = {c['id']: c['name'] for c in data['categories']}
  per_image = {}
  for i, ann in enumerate(data['annotations']):
    try:
      x, y, w, h = (float(v) for v in ann['bbox'])
      image_id, cat = ann['image_id'], names[ann['category_id']]
    except (KeyError, TypeError, ValueError) as e:
      raise AnnotationError(f'{ann_path}: annotations[{i}] malformed ({e!r})') from None
    if not np.all(np.isfinite([x, y, w, h])):
      raise AnnotationError(f'{ann_path}: annotations[{i}] NaN or infinite value in bbox '
                            f'{ann["bbox"]}')
    if w < 0 or h < 0:
      raise AnnotationError(f'{ann_path}: annotations[{i}] negative size in bbox {ann["bbox"]}')
    if ann.get('iscrowd', 0) or w < 1 or h < 1:
      continue
    per_image.setdefault(image_id, []).append(((x, y, w, h), cat))
  images = []
  for img in sorted(data['images'], key=lambda d: d['id']):
    objs = per_image.get(img['id'])
    if not objs:
      continue
    images.append(StillImage(
        path=os.path.join(img_dir, img['file_name']), image_id=int(img['id']),
        boxes=np.asarray([b for b, _ in objs], np.float32).reshape(-1, 4),
        categories=[c for _, c in objs]))
  return images
