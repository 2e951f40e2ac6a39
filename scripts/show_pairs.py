r"""Draws training pairs of a config's data into one PNG, to check the boxes by eye.

::

  python scripts/show_pairs.py --config configs/synthetic.py --data_dir /data/tfds \
      --stills spm_yolo_stills/coco128,spm_voc_stills/kangaroo --videos= \
      --pairs 12 --out pairs.png

Each row of the sheet is one pair, as the training step gets it: the template
crop with its object's box (green), and the search crop with the template's own
instance (green, same-instance pairs) and the CM positives, every visible
object of the template's category (yellow); the row's caption names the pair
type, the source and the number of positive anchors. ``--videos`` /
``--stills`` (comma-separated) replace ``config.data.videos`` / ``.stills``
(an empty value, ``--videos=``, drops that kind).
"""

import os

import cv2
import numpy as np
from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli
from spm_jax.data import pipeline, sampler

GREEN, YELLOW = (0, 220, 0), (255, 220, 0)
DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              'configs', 'synthetic.py')
FLAGS = flags.FLAGS


def define_flags():
  """The command line (``cli.absl_run`` defines it when the command runs)."""
  config_flags.DEFINE_config_file('config', DEFAULT_CONFIG, 'Config file[:arg].',
                                  lock_config=False)
  flags.DEFINE_string('data_dir', None, "tfds data_dir (default: the config's).")
  flags.DEFINE_list('videos', None, 'tfds names of video datasets (--videos= for none).')
  flags.DEFINE_list('stills', None, 'tfds names of still datasets (--stills= for none).')
  flags.DEFINE_integer('pairs', 12, 'Pairs to draw.', lower_bound=1)
  flags.DEFINE_integer('columns', 2, 'Pairs side by side.')
  flags.DEFINE_integer('seed', 0, 'Sampling seed.')
  flags.DEFINE_string('out', None, 'PNG file to write.')
  flags.mark_flag_as_required('out')


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
  """Runs the script on ``argv`` (without the program name; default ``sys.argv[1:]``)."""
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  args = FLAGS
  config = cli.loaded_config(args)
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
