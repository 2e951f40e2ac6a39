"""MobileNetV2 backbone: layout, strides, cell alignment, one block against NumPy
float64, the tracking step and a train step with it."""

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.models import mobilenet
from spm_jax.models import pretrained
from spm_jax.tracking import Tracker
from spm_jax.train import fake_data
from spm_jax.train import train_step as step_lib
from spm_jax.train import trainer

real_mobilenet = config_file.load_module('real_mobilenet')
spm_mobilenet = config_file.load_module('spm_mobilenet')

# torchvision's features (t, c, n, s) rows, with pysot's stride-8 dilations
# (mobile_v2.py: [6, 64, 4, 2 -> 1, d 2], [6, 160, 3, 2 -> 1, d 4]): per block
# (stride, dilation), block1..block17.
PYSOT = ([(1, 1)] + [(2, 1), (1, 1)] + [(2, 1), (1, 1), (1, 1)] + [(1, 1)] + [(1, 2)] * 3
         + [(1, 2)] * 3 + [(1, 2)] + [(1, 4)] * 2 + [(1, 4)])


def test_layout_is_torchvision_at_stride_8():
  layout = mobilenet.block_layout(8)
  assert [(s, d) for s, d, _ in layout[1:]] == PYSOT
  assert [t for _, _, t in layout] == [2, 2, 4, 4] + [8] * 14
  # Output stride 32: torchvision's own strides, no dilation.
  assert [(s, d) for s, d, _ in mobilenet.block_layout(32)[1:]] == [
      (1, 1), (2, 1), (1, 1), (2, 1), (1, 1), (1, 1), (2, 1), (1, 1), (1, 1), (1, 1), (1, 1),
      (1, 1), (1, 1), (2, 1), (1, 1), (1, 1), (1, 1)]


@pytest.mark.parametrize('size,side', [(255, 32), (127, 16), (271, 34)])
def test_shapes(size, side):
  net = mobilenet.MobileNetV2(last_block=17)
  x = jax.ShapeDtypeStruct((2, size, size, 3), jnp.float32)
  out, _ = jax.eval_shape(lambda x: net.init_with_output(jax.random.key(0), x), x)
  channels = [32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320]
  for i, c in enumerate(channels):
    s = 2 * side if i <= 3 else side
    s = 4 * side if i <= 1 else s
    assert out[f'block{i}'].shape == (2, s, s, c), i


def _constant_variables(net, shape):
  """Every kernel 0.05, BatchNorm the identity: a linear, symmetric network."""
  v = net.init(jax.random.key(0), jnp.zeros(shape))
  def fill(path, x):
    name = path[-1].key
    return jnp.full_like(x, {'kernel': 0.05, 'scale': 1.0, 'bias': 0.0, 'mean': 0.0,
                             'var': 1.0 - mobilenet.BN_EPS}[name])
  return jax.tree_util.tree_map_with_path(fill, v)


@pytest.mark.parametrize('block,stride', [(3, 4), (6, 8), (10, 8)])
def test_cell_j_is_centred_on_pixel_stride_j(block, stride):
  """An impulse at pixel (s j, s j) peaks at cell (j, j), symmetric around it."""
  net = mobilenet.MobileNetV2(last_block=block)
  v = _constant_variables(net, (1, 127, 127, 3))
  j = 7
  x = np.zeros((1, 127, 127, 3), np.float32)
  x[0, stride * j, stride * j, :] = 1e-3  # small: ReLU6 stays linear
  r = np.asarray(net.apply(v, jnp.asarray(x))[f'block{block}'][0].sum(-1))
  assert np.unravel_index(np.argmax(r), r.shape) == (j, j)
  np.testing.assert_allclose(r[j - 1, j], r[j + 1, j], rtol=1e-4)
  np.testing.assert_allclose(r[j, j - 1], r[j, j + 1], rtol=1e-4)


# ------------------------------------------------- NumPy float64 reference ---
def _np_conv(x, w, stride=1, dilation=1, groups=1):
  """Torch-layout conv, float64 loops: x [H, W, Cin], w [O, Cin / g, kh, kw], padding d (k // 2)."""
  h, wd, cin = x.shape
  o, cg, kh, kw = w.shape
  p = dilation * (kh // 2)
  xp = np.zeros((h + 2 * p, wd + 2 * p, cin))
  xp[p:p + h, p:p + wd] = x
  oh = (h + 2 * p - dilation * (kh - 1) - 1) // stride + 1
  ow = (wd + 2 * p - dilation * (kw - 1) - 1) // stride + 1
  out = np.zeros((oh, ow, o))
  og = o // groups
  for y in range(oh):
    for xx in range(ow):
      for oc in range(o):
        g = oc // og
        acc = 0.0
        for i in range(kh):
          for jj in range(kw):
            pixel = xp[stride * y + dilation * i, stride * xx + dilation * jj]
            acc += np.dot(pixel[g * cg:(g + 1) * cg], w[oc, :, i, jj])
        out[y, xx, oc] = acc
  return out


def _np_bn(x, bn):
  return (x - bn['running_mean']) / np.sqrt(bn['running_var'] + 1e-5) * bn['weight'] + bn['bias']


def _random_torch_block(rng, cin, cout, t):
  hidden = cin * t
  def bn(c):
    return {'weight': rng.uniform(0.5, 1.5, c), 'bias': rng.normal(size=c) * 0.1,
            'running_mean': rng.normal(size=c) * 0.1, 'running_var': rng.uniform(0.5, 2.0, c)}
  return {'expand': (rng.normal(size=(hidden, cin, 1, 1)) * 0.3, bn(hidden)),
          'depthwise': (rng.normal(size=(hidden, 1, 3, 3)) * 0.3, bn(hidden)),
          'project': (rng.normal(size=(cout, hidden, 1, 1)) * 0.3, bn(cout))}


def _flax_block(torch_block):
  params, stats = {}, {}
  for name, (w, bn) in torch_block.items():
    params[name] = {'conv': {'kernel': jnp.asarray(np.transpose(w, (2, 3, 1, 0)), jnp.float32)},
                    'bn': {'scale': jnp.asarray(bn['weight'], jnp.float32),
                           'bias': jnp.asarray(bn['bias'], jnp.float32)}}
    stats[name] = {'bn': {'mean': jnp.asarray(bn['running_mean'], jnp.float32),
                          'var': jnp.asarray(bn['running_var'], jnp.float32)}}
  return {'params': params, 'batch_stats': stats}


@pytest.mark.parametrize('cin,cout,stride,dilation', [(8, 12, 2, 1), (8, 8, 1, 2), (8, 8, 1, 1)])
def test_inverted_residual_matches_float64(cin, cout, stride, dilation):
  """Inference numbers (BatchNorm on running statistics, eps 1e-5) of one block."""
  rng = np.random.default_rng(cin + cout + stride + dilation)
  block = _random_torch_block(rng, cin, cout, 6)
  x = rng.normal(size=(9, 9, cin))
  y = np.clip(_np_bn(_np_conv(x, block['expand'][0]), block['expand'][1]), 0, 6)
  y = np.clip(_np_bn(_np_conv(y, block['depthwise'][0], stride, dilation, groups=cin * 6),
                     block['depthwise'][1]), 0, 6)
  y = _np_bn(_np_conv(y, block['project'][0]), block['project'][1])
  if stride == 1 and cin == cout:
    y = y + x
  net = mobilenet.InvertedResidual(cout, 6, stride=stride, dilation=dilation)
  got = net.apply(_flax_block(block), jnp.asarray(x[None], jnp.float32), train=True)
  np.testing.assert_allclose(np.asarray(got[0]), y, rtol=1e-4, atol=1e-4)


def test_stem_matches_float64():
  rng = np.random.default_rng(3)
  w = rng.normal(size=(4, 3, 3, 3))
  bn = {'weight': rng.uniform(0.5, 1.5, 4), 'bias': rng.normal(size=4),
        'running_mean': rng.normal(size=4), 'running_var': rng.uniform(0.5, 2.0, 4)}
  x = rng.normal(size=(11, 11, 3))
  want = np.clip(_np_bn(_np_conv(x, w, stride=2), bn), 0, 6)
  v = _flax_block({'block': (w, bn)})
  net = mobilenet.ConvBN(4, kernel=3, stride=2)
  got = net.apply({'params': v['params']['block'], 'batch_stats': v['batch_stats']['block']},
                  jnp.asarray(x[None], jnp.float32))
  assert got.shape == (1, 6, 6, 4)
  np.testing.assert_allclose(np.asarray(got[0]), want, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------- with SPM-Tracker ---
@pytest.mark.slow
def test_tracking_step_compiles_and_tracks():
  config = spm_mobilenet.get_config('runlocal,last_block=4,early_tap=2')
  tracker = Tracker(config, models.init_variables(config, jax.random.key(0)))
  rng = np.random.default_rng(0)
  frame = rng.integers(0, 255, (200, 260, 3), dtype=np.uint8)
  tracker.init(frame, np.array([100.0, 80.0, 40.0, 30.0]))
  for _ in range(3):
    box, score = tracker.update(frame)
    assert np.all(np.isfinite(box)) and np.isfinite(score) and box[2] > 0 and box[3] > 0
  assert tracker.last_outputs['proposals'].shape == (9, 4)


@pytest.mark.slow
def test_one_train_step_keeps_the_frozen_backbone():
  """real_mobilenet (tiny): one step; the frozen backbone and its statistics stay,
  the heads and the adjust layer's statistics move; ImageNet init when installed."""
  config = real_mobilenet.get_config('runlocal,last_block=3,early_tap=2')
  config.input_kind = 'fake'
  try:
    pretrained.locate()
  except FileNotFoundError:
    config.init_backbone = None
  config = trainer.finalize_config(config)
  state, _ = trainer.make_state(config, jax.random.PRNGKey(0))
  if config.init_backbone:
    want, stats = pretrained.load_imagenet_mobilenet_v2(3)
    np.testing.assert_array_equal(state.params['backbone']['block2']['expand']['conv']['kernel'],
                                  want['block2']['expand']['conv']['kernel'])
    np.testing.assert_array_equal(state.batch_stats['backbone']['block3']['project']['bn']['var'],
                                  stats['block3']['project']['bn']['var'])
  p_step = step_lib.make_p_train_step(config)
  n = jax.local_device_count()
  batch = fake_data.make_batch(0, 0, config.batch_size, config.model)
  rng = np.broadcast_to(np.asarray(jax.random.PRNGKey(1)), (n, 2))
  new, metrics = p_step(trainer.replicate(state), step_lib.shard_batch(batch, n), rng)[:2]
  assert np.isfinite(float(np.asarray(metrics['total'])[0]))
  new = trainer.unreplicate(new)
  flat = lambda t: flax.traverse_util.flatten_dict(jax.device_get(t), sep='/')
  before, after = flat(state.params), flat(new.params)
  moved = {k for k in before if not np.array_equal(before[k], after[k])}
  assert not any(k.startswith('backbone/') for k in moved)
  assert all(any(k.startswith(p) for k in moved) for p in ('adjust/', 'cm/', 'fm/'))
  before, after = flat(state.batch_stats), flat(new.batch_stats)
  assert all(np.array_equal(before[k], after[k]) for k in before if k.startswith('backbone/'))
  assert not np.array_equal(before['adjust/bn/mean'], after['adjust/bn/mean'])


def test_config_feeds_torchvision_input():
  """RGB / 255, ImageNet mean and std (torchvision's numbers, written out)."""
  config = spm_mobilenet.get_config()
  assert config.model.backbone.name == 'mobilenet_v2' and not config.model.backbone.train_bn
  model = models.build_model(config)
  rgb = np.array([[[[0.0, 128.0, 255.0]]]], np.float32)
  got = model.apply({}, jnp.asarray(rgb), method=model.normalize)
  want = (np.array([0.0, 128.0, 255.0]) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
  np.testing.assert_allclose(np.asarray(got).ravel(), want, rtol=1e-5)
