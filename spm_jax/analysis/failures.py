"""Where a tracker is when it is not on the target, on the procedural videos.

The procedural videos (``spm_jax.data.synthetic``) know every object's box, so
each scored frame of a result can be put in one class (host-side NumPy,
float64, IoU on x, y, w, h boxes without "+1"):

* ``target``: IoU with the target > ``on_iou`` (0.3, as ``box_stats``);
* ``same category``: otherwise, the object it overlaps most (IoU > ``on_iou``)
  is a distractor of the target's category -- the failure SPM-Tracker's FM
  stage exists to prevent;
* ``other category``: that object is of another category;
* ``target hidden``: on no object while the target is not visible
  (occluded or outside the frame);
* ``background``: on no object while the target is visible.

Frame 0 (the given box) is not scored. The objects' boxes are in the
sequence's ``meta.json`` (``objects``, written by ``export_otb``); for folders
written before it held them they are regenerated from the sequence's seed and
checked against the ground truth.
"""

import json
import os

import cv2
import numpy as np

from spm_jax.data import synthetic
from spm_jax.evaluation import metrics

OUTCOMES = ('target', 'same category', 'other category', 'target hidden', 'background')


def frame_outcomes(pred, objects, categories, target_visible, on_iou=0.3):
  """The class of every frame of one result.

  Args:
    pred: [T, 4] x, y, w, h predicted boxes, pixels.
    objects: [T, N, 4] x, y, w, h of every object in the same pixel frame,
      object 0 the target.
    categories: [N] category ids.
    target_visible: [T] bool.
    on_iou: IoU above which the box is on an object.

  Returns:
    [T] int64 index into ``OUTCOMES``; -1 for frame 0.
  """
  pred = np.asarray(pred, np.float64)
  objects = np.asarray(objects, np.float64)
  t, n = objects.shape[:2]
  if pred.shape != (t, 4):
    raise ValueError(f'pred has shape {pred.shape}, expected ({t}, 4) for {t} frames')
  ious = metrics.iou(np.repeat(pred[:, None], n, axis=1).reshape(-1, 4),
                     objects.reshape(-1, 4)).reshape(t, n)
  ious = np.nan_to_num(ious)
  # The distractor each frame overlaps most (a zero column when there is none).
  others = np.concatenate([ious[:, 1:], np.zeros((t, 1))], axis=1)
  same = np.append(np.asarray(categories)[1:] == categories[0], False)
  best = np.argmax(others, axis=1)
  out = np.where(np.asarray(target_visible, bool), 4, 3)
  out = np.where(others[np.arange(t), best] > on_iou, np.where(same[best], 1, 2), out)
  out = np.where(ious[:, 0] > on_iou, 0, out)
  out[0] = -1
  return out.astype(np.int64)


def load_objects(seq_dir, gt, pixel_origin=1.0):
  """Every object's boxes of one exported procedural sequence.

  Args:
    seq_dir: the sequence folder (``meta.json``, ``img/``).
    gt: [T, 4] its ground truth x, y, w, h in the benchmark's pixel frame.
    pixel_origin: that frame's coordinate of the top-left pixel (1 for the
      OTB layout that ``export_otb`` writes).

  Returns:
    (objects [T, N, 4] x, y, w, h in ``gt``'s frame, categories [N] int,
    target_visible [T] bool).

  Raises:
    FileNotFoundError: no ``meta.json`` (not a procedural sequence).
    ValueError: the boxes disagree with the ground truth.
  """
  path = os.path.join(seq_dir, 'meta.json')
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{path} not found: failure classes need the procedural videos '
                            'of spm_jax.data.synthetic')
  with open(path) as f:
    meta = json.load(f)
  gt = np.asarray(gt, np.float64)
  if 'objects' in meta:
    objects = np.asarray(meta['objects'], np.float64)
    categories = np.asarray([synthetic.CATEGORY_NAMES.index(c) for c in meta['categories']])
    visible = np.asarray(meta['target_visible'], bool)
  else:  # Written before meta.json held the objects: regenerate them.
    first = cv2.imread(os.path.join(seq_dir, 'img', '0001.jpg'))
    if first is None:
      raise FileNotFoundError(f'cannot read {seq_dir}/img/0001.jpg')
    seq = synthetic.generate_sequence(tuple(meta['seed']), num_frames=len(gt),
                                      height=first.shape[0], width=first.shape[1])
    objects, categories, visible = seq.boxes.astype(np.float64), seq.categories, seq.visible[:, 0]
  objects[..., :2] += pixel_origin
  if objects.shape[0] != len(gt) or not np.allclose(objects[:, 0], gt):
    raise ValueError(f'{seq_dir}: the objects\' target boxes differ from the ground truth '
                     '(the folder was made with other generator settings or version)')
  return objects, categories, visible


def sequence_objects(seq):
  """:func:`load_objects` of a ``datasets.Sequence`` in the OTB layout (``<seq>/img/0001.jpg``)."""
  seq_dir = os.path.dirname(os.path.dirname(seq.frames[0]))
  return load_objects(seq_dir, seq.gt, seq.pixel_origin)


def outcome_shares(outcomes):
  """{outcome: share of the scored frames} pooled over sequences' ``frame_outcomes``."""
  codes = np.concatenate([np.asarray(o) for o in outcomes])
  codes = codes[codes >= 0]
  if codes.size == 0:
    raise ValueError('no scored frames')
  return {name: float(np.mean(codes == i)) for i, name in enumerate(OUTCOMES)}


def format_table(table):
  """A text table of ``{tracker: outcome_shares(...)}`` in per cent."""
  width = max([len('tracker')] + [len(n) for n in table])
  lines = [f'{"tracker":<{width}}  ' + '  '.join(f'{o:>14}' for o in OUTCOMES)]
  for name, shares in table.items():
    lines.append(f'{name:<{width}}  ' + '  '.join(f'{100 * shares[o]:13.1f}%' for o in OUTCOMES))
  return '\n'.join(lines)
