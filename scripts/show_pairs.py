r"""Draws training pairs of a config's data into one PNG, to check the boxes by eye.

::

  python scripts/show_pairs.py --config configs/synthetic.py --data_dir /data/tfds \
      --stills spm_yolo_stills/coco128 spm_voc_stills/kangaroo --videos \
      --pairs 12 --out pairs.png

Each row of the sheet is one pair, as the training step gets it: the template
crop with its object's box (green), and the search crop with the template's own
instance (green, same-instance pairs) and the CM positives, every visible
object of the template's category (yellow); the row's caption names the pair
type, the source and the number of positive anchors. ``--videos`` /
``--stills`` replace ``config.data.videos`` / ``.stills`` (an empty list
drops that kind).
"""

import argparse
import os

import cv2
import numpy as np

from spm_jax import config_file  # pylint: disable=wrong-import-position
from spm_jax.data import pipeline, sampler  # pylint: disable=wrong-import-position

GREEN, YELLOW = (0, 220, 0), (255, 220, 0)


def _boxes(img, boxes, colour):
  for x1, y1, x2, y2 in np.asarray(boxes).reshape(-1, 4):
    p1, p2 = (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2)))
    cv2.rectangle(img, p1, p2, colour, 2)


def draw_pair(batch, i):
  """Row ``i`` of a batch -> [H, W, 3] uint8 RGB picture (template | search, caption below)."""
  template = np.ascontiguousarray(batch['template'][i])
  search = np.ascontiguousarray(batch['search'][i])
  _boxes(template, batch['template_box'][i], GREEN)
  _boxes(search, batch['category_boxes'][i][batch['category_mask'][i]], YELLOW)
  if batch['has_target'][i]:
    _boxes(search, batch['target_box'][i], GREEN)
  h = search.shape[0]
  row = np.full((h + 22, template.shape[1] + 6 + search.shape[1], 3), 255, np.uint8)
  row[:template.shape[0], :template.shape[1]] = template
  row[:h, template.shape[1] + 6:] = search
  caption = (f"{sampler.PAIR_TYPES[int(batch['pair_type'][i])]}, "
             f"{int((batch['cls_label'][i] == 1).sum())} positive anchors")
  cv2.putText(row, caption, (4, h + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
  return row


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--config', default='configs/synthetic.py', help='config file[:arg]')
  parser.add_argument('--data_dir', default=None, help='tfds data_dir (default: the config\'s)')
  parser.add_argument('--videos', nargs='*', default=None, help='tfds names of video datasets')
  parser.add_argument('--stills', nargs='*', default=None, help='tfds names of still datasets')
  parser.add_argument('--pairs', type=int, default=12, help='pairs to draw')
  parser.add_argument('--columns', type=int, default=2, help='pairs side by side')
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--out', required=True, help='PNG file to write')
  args = parser.parse_args(argv)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  config = config_file.load(args.config, root=root)
  data, model = config.data, config.model
  with data.unlocked(), model.unlocked():
    if args.data_dir is not None:
      data.data_dir = args.data_dir
    if args.videos is not None:
      data.videos = tuple(args.videos)
    if args.stills is not None:
      data.stills = tuple(args.stills)
    data.batch_size = args.pairs
    data.worker_count = 0
    if config.get('train_search_size') is not None:
      model.search_size = int(config.train_search_size)
  batch = next(iter(pipeline.make_loader(data, model, seed=args.seed)))
  rows = [draw_pair(batch, i) for i in range(args.pairs)]
  cols = max(1, args.columns)
  rows += [np.full_like(rows[0], 255)] * (-len(rows) % cols)
  sheet = np.concatenate([np.concatenate(rows[r:r + cols], 1)
                          for r in range(0, len(rows), cols)], 0)
  if not cv2.imwrite(args.out, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
    raise OSError(f'could not write {args.out}')
  types = np.bincount(batch['pair_type'], minlength=3)
  counts = ', '.join(f'{n} {t}' for n, t in zip(types, sampler.PAIR_TYPES))
  print(f'{args.out}: {args.pairs} pairs ({counts})')


if __name__ == '__main__':
  main()
