"""End to end: synthetic tfds dataset -> grain batches; iterator state save/restore."""

import ml_collections
import numpy as np
import pytest

from spm_jax.data import pipeline, prepare


@pytest.fixture(scope='module')
def data_config(tmp_path_factory):
  data_dir = str(tmp_path_factory.mktemp('tfds'))
  prepare.prepare('spm_synthetic_videos/tiny', data_dir)
  c = pipeline.default_data_config()
  c.data_dir = data_dir
  c.videos = ('spm_synthetic_videos/tiny',)
  c.batch_size = 4
  c.pairs_per_epoch = 64
  return c


def _model_config():
  m = ml_collections.ConfigDict()
  m.template_size, m.search_size, m.context_amount, m.stride = 127, 271, 0.5, 8
  m.anchors = ml_collections.ConfigDict(dict(
      ratios=(0.33, 0.5, 1.0, 2.0, 3.0), scales=(8.0,), base_size=8, offset=63.5))
  return m


SHAPES = {
    'template': ((4, 127, 127, 3), np.uint8), 'search': ((4, 271, 271, 3), np.uint8),
    'template_box': ((4, 4), np.float32), 'target_box': ((4, 4), np.float32),
    'has_target': ((4,), np.bool_), 'category_boxes': ((4, 8, 4), np.float32),
    'category_mask': ((4, 8), np.bool_), 'cls_label': ((4, 19, 19, 5), np.int8),
    'reg_target': ((4, 19, 19, 5, 4), np.float32), 'reg_weight': ((4, 19, 19, 5), np.float32),
    'pair_type': ((4,), np.int32), 'undecodable': ((4,), np.int32),
}


def test_fixed_shape_batches(data_config):
  it = iter(pipeline.make_loader(data_config, _model_config(), seed=0))
  for _ in range(3):
    batch = next(it)
    assert {k: (v.shape, v.dtype) for k, v in batch.items()} == SHAPES
    assert set(np.unique(batch['cls_label'])) <= {-1, 0, 1}
    assert ((batch['cls_label'] != -1).sum((1, 2, 3)) <= 48).all()
    np.testing.assert_array_equal(batch['has_target'], batch['pair_type'] == 0)
    assert not batch['undecodable'].any()


def test_state_restore_continues_the_same_order(data_config):
  model = _model_config()
  it = iter(pipeline.make_loader(data_config, model, seed=3))
  next(it)
  next(it)
  state = it.get_state()
  want = [next(it) for _ in range(2)]
  resumed = iter(pipeline.make_loader(data_config, model, seed=3))
  resumed.set_state(state)
  for w in want:
    got = next(resumed)
    for k in w:
      np.testing.assert_array_equal(got[k], w[k], err_msg=k)
  # A different seed gives different pairs.
  other = next(iter(pipeline.make_loader(data_config, model, seed=4)))
  assert not np.array_equal(other['search'], want[0]['search'])


class _CorruptOddRecords:
  """A data source whose odd records carry image bytes that do not decode."""

  def __init__(self, source):
    self.source = source

  def __len__(self):
    return len(self.source)

  def __getitem__(self, i):
    ex = dict(self.source[i])
    if i % 2:
      ex['image'] = b'\xff\xd8 not a jpeg'
    return ex


def test_undecodable_pairs_are_dropped_and_counted_in_the_batch(data_config, caplog):
  sources = [(_CorruptOddRecords(src), kind) for src, kind in pipeline.load_sources(data_config)]
  it = iter(pipeline.make_loader(data_config, _model_config(), sources=sources, seed=0))
  batches = [next(it) for _ in range(3)]
  for batch in batches:
    assert {k: (v.shape, v.dtype) for k, v in batch.items()} == SHAPES
  # A pair needs two good records (1/4 of draws with half the records bad, fewer when
  # the template and search are the same record): dozens of drops over 12 pairs.
  dropped = sum(int(b['undecodable'].sum()) for b in batches)
  assert dropped >= 5
  assert 'does not decode' in caplog.text
