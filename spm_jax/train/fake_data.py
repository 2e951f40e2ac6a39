"""Random training pairs in the pipeline's batch format, for tests and benchmarks.

A pair is a coloured rectangle on noise. Same-instance pairs (3 in 4) show the
template's rectangle in the search crop at a random shift; different-category
pairs show a rectangle of another colour (CM and FM negatives only). Labels
come from :func:`spm_jax.data.labels.cm_labels` and ``subsample`` as in the
real pipeline, so the format is that of :mod:`spm_jax.data.pipeline`, and the
task is learnable (the total loss drops within a few hundred steps).

Batch ``i`` is a function of ``(seed, i)`` only: the iterator's state is the
index of the next batch, so a resumed run sees the same batches.
"""

import json

import numpy as np

from spm_jax.data import labels as label_lib
from spm_jax.models import geometry


def _draw(canvas, box, colour):
  x1, y1, x2, y2 = np.round(box).astype(int)
  canvas[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = colour


def make_pair(rng, model_config, anchors, *, cm_num_anchors=48, same_instance_prob=0.75,
              max_shift=32.0):
  """One pair dict (pipeline keys; images uint8 RGB, boxes x1, y1, x2, y2 crop pixels)."""
  tz, sx = model_config.template_size, model_config.search_size
  w, h = rng.uniform(24, 64, size=2)
  colour = rng.integers(0, 256, size=3)
  template = rng.integers(0, 256, size=(tz, tz, 3)).astype(np.uint8) // 4 + 96
  zc = (tz / 2, tz / 2)
  t_box = np.array([zc[0] - w / 2, zc[1] - h / 2, zc[0] + w / 2, zc[1] + h / 2], np.float32)
  _draw(template, t_box, colour)

  search = rng.integers(0, 256, size=(sx, sx, 3)).astype(np.uint8) // 4 + 96
  same = rng.uniform() < same_instance_prob
  c = sx / 2 + rng.uniform(-max_shift, max_shift, size=2)
  s_box = np.array([c[0] - w / 2, c[1] - h / 2, c[0] + w / 2, c[1] + h / 2], np.float32)
  if same:
    _draw(search, s_box, colour)
  else:
    _draw(search, s_box, (colour + 128) % 256)
  positives = s_box[None] if same else np.zeros((0, 4), np.float32)
  cls, reg, weight = label_lib.cm_labels(anchors, positives)
  cls, weight = label_lib.subsample(cls, weight, rng, cm_num_anchors, 0.5)
  return {
      'template': template, 'search': search, 'template_box': t_box,
      'target_box': s_box if same else np.zeros(4, np.float32),
      'has_target': np.bool_(same),
      'category_boxes': np.concatenate([positives, np.zeros((8 - len(positives), 4))]).astype(np.float32),
      'category_mask': np.arange(8) < len(positives),
      'cls_label': cls, 'reg_target': (reg * weight[..., None]).astype(np.float32),
      'reg_weight': weight, 'pair_type': np.int32(0 if same else 2),
  }


def make_batch(seed, index, batch_size, model_config, **kwargs):
  """Batch ``index`` of the stream ``seed``: dict of [batch_size, ...] arrays."""
  rng = np.random.default_rng([seed, index])
  anchors = geometry.model_anchors(model_config)  # [S, S, A, 4]
  pairs = [make_pair(rng, model_config, anchors, **kwargs) for _ in range(batch_size)]
  return {k: np.stack([p[k] for p in pairs]) for k in pairs[0]}


class FakePairs:
  """Endless iterator of :func:`make_batch` batches with ``get_state``/``set_state``.

  Args:
    model_config: ``config.model``.
    batch_size: pairs a batch (this host's share).
    seed: stream seed.
    shard: (index, count) of this host; host ``i`` of ``n`` reads the
      batches of the stream ``seed * n + i``.
  """

  def __init__(self, model_config, batch_size, seed=0, shard=(0, 1)):
    self.model_config = model_config
    self.batch_size = int(batch_size)
    self.seed = int(seed) * shard[1] + shard[0]
    self.index = 0

  def __iter__(self):
    return self

  def __next__(self):
    batch = make_batch(self.seed, self.index, self.batch_size, self.model_config)
    self.index += 1
    return batch

  def get_state(self):
    """JSON bytes, like a grain ``DataLoader`` iterator (its checkpoint handler works)."""
    return json.dumps({'index': self.index}).encode()

  def set_state(self, state):
    self.index = int(json.loads(state)['index'])

  def start_prefetch(self):
    """Called by grain's checkpoint handler after a restore; nothing to do."""
