"""Weight import from the SPM-Tracker release and pysot (spm_jax/convert.py).

State dicts are built here, with the release's key names, from random models of
ours by an inverse mapping written independently of the converter; outputs of
the converted model are compared with NumPy float64 re-computations that follow
PyTorch's NCHW semantics on those state dicts.
"""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import convert, export, models

spm_alexnet = config_file.load_module('spm_alexnet')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K = 5  # anchors


# ------------------------------------------------------------- test models ---
def random_variables(config, seed=0):
  """Random variables of ``config`` with non-zero biases and BN statistics."""
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  rng = np.random.default_rng(seed)
  flat = export.flatten(shapes)
  out = {}
  for path, s in flat.items():
    leaf, shape = path[-1], s.shape
    if leaf == 'kernel':
      value = rng.normal(size=shape) / np.sqrt(np.prod(shape[:-1]))
    elif leaf == 'var':
      value = rng.uniform(0.5, 1.5, size=shape)
    elif leaf == 'scale':
      value = 1.0 + 0.1 * rng.normal(size=shape)
    else:  # bias, mean
      value = 0.1 * rng.normal(size=shape)
    out[path] = value.astype(np.float32)
  return export.unflatten(out)


def _oihw(kernel):
  """Flax [kh, kw, I, O] -> PyTorch [O, I, kh, kw]."""
  return np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)))


def release_state_dicts(variables, config):
  """(cm_stage, fm_stage) state dicts with the release's names, from our variables."""
  p, s = variables['params'], variables['batch_stats']
  c = config.model.cm.channels
  cm = {}
  for i in range(1, 6):
    conv = p['backbone'][f'conv{i}']
    cm[f'z_net.conv{i}.conv.weight'] = _oihw(conv['kernel'])
    cm[f'z_net.conv{i}.conv.bias'] = conv['bias']
  for ours, theirs in (('z_cls_conv', 'z_cls_conv'), ('z_box_conv', 'z_bbox_conv'),
                       ('x_cls_conv', 'x_cls_conv.0'), ('x_box_conv', 'x_bbox_conv.0')):
    cm[f'rpn_head.{theirs}.weight'] = _oihw(p['cm'][ours]['kernel'])
    cm[f'rpn_head.{theirs}.bias'] = p['cm'][ours]['bias']
  # bbox_refine: release output channel a * 4 + d is our d * K + a.
  refine_w = _oihw(p['cm']['box_refine']['kernel'])
  refine_b = p['cm']['box_refine']['bias']
  rows = [d * K + a for a in range(K) for d in range(4)]
  cm['rpn_head.bbox_refine.weight'] = refine_w[rows]
  cm['rpn_head.bbox_refine.bias'] = refine_b[rows]
  cm['rpn_head.cls_bias'] = np.zeros((1, 2 * K, 1, 1), np.float32)
  cm['rpn_head.z_cls_weights'] = np.zeros((2 * K, c, 4, 4), np.float32)
  cm['rpn_head.z_bbox_weights'] = np.zeros((4 * K, c, 4, 4), np.float32)

  fm = {}
  for i, name in enumerate(config.model.fm.features):
    bn = f'feat_extractor.bn_list.{i}'
    fm[f'{bn}.weight'] = p['fm'][f'norm_{name}']['scale']
    fm[f'{bn}.bias'] = p['fm'][f'norm_{name}']['bias']
    fm[f'{bn}.running_mean'] = s['fm'][f'norm_{name}']['mean']
    fm[f'{bn}.running_var'] = s['fm'][f'norm_{name}']['var']
    fm[f'{bn}.num_batches_tracked'] = np.array(1000, np.int64)
  fm['siam_fusion.roi_conv.roi_conv0.weight'] = _oihw(p['fm']['relation_conv']['kernel'])
  fm['siam_fusion.roi_conv.roi_conv0.bias'] = p['fm']['relation_conv']['bias']
  # linear0 reads PyTorch's NCHW flatten: input index ch * 36 + y * 6 + x.
  kernel = p['fm']['fc0']['kernel']  # [(y * 6 + x) * C + ch, out]
  n = config.model.fm.pool_size
  cc = config.model.fm.conv_channels
  w0 = np.zeros((kernel.shape[1], cc * n * n), np.float32)
  for ch in range(cc):
    for y in range(n):
      for x in range(n):
        w0[:, ch * n * n + y * n + x] = kernel[(y * n + x) * cc + ch]
  fm['siam_fusion.linear_layers.linear0.weight'] = w0
  fm['siam_fusion.linear_layers.linear0.bias'] = p['fm']['fc0']['bias']
  for i in range(1, config.model.fm.num_fc):
    fm[f'siam_fusion.linear_layers.linear{i}.weight'] = p['fm'][f'fc{i}']['kernel'].T.copy()
    fm[f'siam_fusion.linear_layers.linear{i}.bias'] = p['fm'][f'fc{i}']['bias']
  fm['rcnn_cls.weight'] = p['fm']['cls']['kernel'].T.copy()
  fm['rcnn_cls.bias'] = p['fm']['cls']['bias']
  fm['rcnn_bbox.weight'] = p['fm']['box']['kernel'].T.copy()
  fm['rcnn_bbox.bias'] = p['fm']['box']['bias']
  return cm, fm


# The release's alexnet_c42_otb shapes (from its module definitions).
RELEASE_SHAPES = {
    'z_net.conv1.conv.weight': (96, 3, 11, 11), 'z_net.conv1.conv.bias': (96,),
    'z_net.conv2.conv.weight': (256, 48, 5, 5), 'z_net.conv2.conv.bias': (256,),
    'z_net.conv3.conv.weight': (384, 256, 3, 3), 'z_net.conv3.conv.bias': (384,),
    'z_net.conv4.conv.weight': (384, 192, 3, 3), 'z_net.conv4.conv.bias': (384,),
    'z_net.conv5.conv.weight': (256, 192, 3, 3), 'z_net.conv5.conv.bias': (256,),
    'rpn_head.cls_bias': (1, 10, 1, 1),
    'rpn_head.z_cls_weights': (10, 256, 4, 4), 'rpn_head.z_bbox_weights': (20, 256, 4, 4),
    'rpn_head.z_cls_conv.weight': (2560, 256, 3, 3), 'rpn_head.z_cls_conv.bias': (2560,),
    'rpn_head.z_bbox_conv.weight': (5120, 256, 3, 3), 'rpn_head.z_bbox_conv.bias': (5120,),
    'rpn_head.x_cls_conv.0.weight': (256, 256, 3, 3), 'rpn_head.x_cls_conv.0.bias': (256,),
    'rpn_head.x_bbox_conv.0.weight': (256, 256, 3, 3), 'rpn_head.x_bbox_conv.0.bias': (256,),
    'rpn_head.bbox_refine.weight': (20, 20, 1, 1), 'rpn_head.bbox_refine.bias': (20,),
}
RELEASE_FM_SHAPES = {
    'siam_fusion.roi_conv.roi_conv0.weight': (256, 1280, 3, 3),
    'siam_fusion.roi_conv.roi_conv0.bias': (256,),
    'siam_fusion.linear_layers.linear0.weight': (256, 9216),
    'siam_fusion.linear_layers.linear0.bias': (256,),
    'siam_fusion.linear_layers.linear1.weight': (256, 256),
    'siam_fusion.linear_layers.linear1.bias': (256,),
    'rcnn_cls.weight': (2, 256), 'rcnn_cls.bias': (2,),
    'rcnn_bbox.weight': (4, 256), 'rcnn_bbox.bias': (4,),
}
for _i, _c in enumerate((384, 256)):
  for _n in ('weight', 'bias', 'running_mean', 'running_var'):
    RELEASE_FM_SHAPES[f'feat_extractor.bn_list.{_i}.{_n}'] = (_c,)
  RELEASE_FM_SHAPES[f'feat_extractor.bn_list.{_i}.num_batches_tracked'] = ()


@pytest.fixture(scope='module')
def small():
  """(config, original variables, converted variables, cm state, fm state), runlocal."""
  config = spm_alexnet.get_config('runlocal')
  variables = random_variables(config)
  cm, fm = release_state_dicts(variables, config)
  out_config, converted = convert.convert_release(cm, fm, config)
  assert out_config is config
  return config, variables, converted, cm, fm


# ----------------------------------------------------------- (a) coverage ---
def test_full_size_release_fills_every_variable():
  """Release shapes + the default config: every variable comes from one key."""
  config = spm_alexnet.get_config()
  keys = sorted(RELEASE_SHAPES) + sorted(RELEASE_FM_SHAPES)
  values = {k: float(i + 1) for i, k in enumerate(keys)}
  values['rpn_head.cls_bias'] = 0.0
  cm = {k: np.full(RELEASE_SHAPES[k], values[k], np.float32) for k in RELEASE_SHAPES}
  fm = {k: np.full(RELEASE_FM_SHAPES[k], values[k], np.float32) for k in RELEASE_FM_SHAPES}
  cm = {'module.' + k: v for k, v in cm.items()}  # DataParallel prefix is stripped
  _, variables = convert.convert_release(cm, fm, config)
  export.check_variables(config, variables)
  flat = export.flatten(variables)
  assert len(flat) == len(export.flatten(jax.eval_shape(
      lambda: models.init_variables(config, jax.random.key(0)))))
  ignored = {'rpn_head.cls_bias', 'rpn_head.z_cls_weights', 'rpn_head.z_bbox_weights'}
  sources = {values[k] for k in keys if k not in ignored and 'num_batches' not in k}
  seen = set()
  for path, leaf in flat.items():
    uniques = np.unique(leaf)
    assert len(uniques) == 1 and uniques[0] in sources, path
    seen.add(float(uniques[0]))
    assert leaf.dtype == np.float32
  assert seen == sources  # every release tensor landed somewhere, exactly once by value
  del cm, fm, variables


def test_round_trip_is_exact(small):
  config, variables, converted, _, _ = small
  export.check_variables(config, converted)
  jax.tree.map(np.testing.assert_array_equal, converted, variables)


def test_errors_name_keys_and_shapes(small):
  config, _, _, cm, fm = small
  cm = dict(cm)
  cm['rpn_head.x_cls_conv.0.weight'] = cm['rpn_head.x_cls_conv.0.weight'][:, :10]
  del cm['z_net.conv3.conv.bias']
  cm['rpn_head.extra.weight'] = np.zeros(3)
  with pytest.raises(ValueError) as exc:
    convert.convert_release(cm, fm, config)
  msg = str(exc.value)
  assert 'rpn_head.x_cls_conv.0.weight (64, 10, 3, 3) -> params/cm/x_cls_conv/kernel' in msg
  assert 'config expects (3, 3, 64, 64)' in msg
  assert 'z_net.conv3.conv.bias: missing' in msg
  assert 'rpn_head.extra.weight' in msg
  with pytest.raises(ValueError, match='cls_bias is not zero'):
    convert.convert_release(dict(small[3], **{'rpn_head.cls_bias': np.ones((1, 10, 1, 1))}),
                            fm, config)
  full = spm_alexnet.get_config()
  with pytest.raises(ValueError, match=r'z_net.conv1.conv.weight \(24, 3, 11, 11\)'):
    convert.convert_release(small[3], fm, full)


# ------------------------------------------- (b) NumPy reference of the CM ---
def np_conv(x, w, b, stride=1, pad=0, groups=1):
  """PyTorch conv2d in float64: x [C, H, W], w [O, C / g, kh, kw], b [O] -> [O, H', W']."""
  x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
  c, h, wd = x.shape
  o, cg, kh, kw = w.shape
  assert cg * groups == c
  xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
  ho, wo = (h + 2 * pad - kh) // stride + 1, (wd + 2 * pad - kw) // stride + 1
  patches = np.empty((c, kh, kw, ho, wo))
  for i in range(kh):
    for j in range(kw):
      patches[:, i, j] = xp[:, i:i + stride * ho:stride, j:j + stride * wo:stride]
  og = o // groups
  out = [np.einsum('ocij,cijhw->ohw', w[g * og:(g + 1) * og], patches[g * cg:(g + 1) * cg])
         for g in range(groups)]
  return np.concatenate(out) + np.asarray(b, np.float64)[:, None, None]


def np_maxpool(x):
  """MaxPool2d(3, stride=2, padding=1) of [C, H, W]."""
  c, h, w = x.shape
  xp = np.pad(x, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
  ho, wo = (h - 1) // 2 + 1, (w - 1) // 2 + 1
  out = np.full((c, ho, wo), -np.inf)
  for i in range(3):
    for j in range(3):
      out = np.maximum(out, xp[:, i:i + 2 * ho:2, j:j + 2 * wo:2])
  return out


def np_lrn(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
  """torch.nn.LocalResponseNorm of [C, H, W]."""
  sq = np.pad(x ** 2, ((size // 2, (size - 1) // 2), (0, 0), (0, 0)))
  window = sum(sq[i:i + x.shape[0]] for i in range(size))
  return x / (k + alpha * window / size) ** beta


def np_release_backbone(image_rgb, cm):
  """The release's AlexNetConv(padding=True) on a uint8-range RGB image -> conv1..conv5."""
  x = image_rgb[..., ::-1].astype(np.float64) - np.array([104.0, 117.0, 123.0])  # BGR - mean
  x = x.transpose(2, 0, 1)
  out = {}
  spec = {1: (2, 5, 1), 2: (1, 2, 2), 3: (1, 1, 1), 4: (1, 1, 2), 5: (1, 1, 2)}
  for i in range(1, 6):
    stride, pad, groups = spec[i]
    x = np_conv(x, cm[f'z_net.conv{i}.conv.weight'], cm[f'z_net.conv{i}.conv.bias'],
                stride, pad, groups)
    x = np.maximum(x, 0.0)
    if i <= 2:
      x = np_lrn(np_maxpool(x))
    out[f'conv{i}'] = x
  return out


def np_center(x, size):
  _, h, w = x.shape
  t, l = (h - size) // 2, (w - size) // 2
  return x[:, t:t + size, l:l + size]


def np_release_cm(z_img, x_img, cm, channels, scale=1e-3):
  """CM_Stage + SPMTrackerInference.generate_rpn_boxes: scores [N] and deltas [N, 4]."""
  z5 = np_center(np_release_backbone(z_img, cm)['conv5'], (z_img.shape[0] - 87) // 8 + 1)
  x5 = np_center(np_release_backbone(x_img, cm)['conv5'], (x_img.shape[0] - 87) // 8 + 1)
  h = 'rpn_head.'
  z_cls = np_conv(z5, cm[h + 'z_cls_conv.weight'], cm[h + 'z_cls_conv.bias'])
  z_box = np_conv(z5, cm[h + 'z_bbox_conv.weight'], cm[h + 'z_bbox_conv.bias'])
  kh = z_cls.shape[-1]
  z_cls = z_cls.reshape(2 * K, channels, kh, kh) * scale
  z_box = z_box.reshape(4 * K, channels, kh, kh) * scale
  x_cls = np_conv(x5, cm[h + 'x_cls_conv.0.weight'], cm[h + 'x_cls_conv.0.bias'])
  x_box = np_conv(x5, cm[h + 'x_bbox_conv.0.weight'], cm[h + 'x_bbox_conv.0.bias'])
  logits = np_conv(x_cls, z_cls, np.zeros(2 * K)) + cm[h + 'cls_bias'][0]
  deltas = np_conv(np_conv(x_box, z_box, np.zeros(4 * K)), cm[h + 'bbox_refine.weight'],
                   cm[h + 'bbox_refine.bias'])
  fg = 1.0 / (1.0 + np.exp(logits[:K] - logits[K:]))  # softmax over (bg, fg) pairs
  return fg.transpose(1, 2, 0).reshape(-1), deltas.transpose(1, 2, 0).reshape(-1, 4)


def test_first_layers_match_numpy(small):
  """conv1 (+ReLU, pool, LRN) and the grouped conv2 on a small image."""
  config, _, converted, cm, _ = small
  img = np.random.default_rng(1).uniform(0, 255, (39, 39, 3))
  model = models.build_model(config)
  feats = model.apply(converted, jnp.asarray(img[None], jnp.float32), method=model.embed)
  want = np_release_backbone(img, cm)
  for name in ('conv1', 'conv2'):
    got = np.asarray(feats[name][0], np.float64).transpose(2, 0, 1)
    assert got.shape == want[name].shape
    np.testing.assert_allclose(got, want[name], rtol=1e-4, atol=1e-4 * np.abs(want[name]).max())


def test_cm_scores_and_deltas_match_numpy(small):
  """Converted model vs the release's CM stage re-computed in NumPy float64."""
  config, _, converted, cm, _ = small
  rng = np.random.default_rng(2)
  z_img = rng.uniform(0, 255, (127, 127, 3))
  x_img = rng.uniform(0, 255, (151, 151, 3))  # a small search crop: 4x4 score map
  model = models.build_model(config)
  template = model.apply(converted, jnp.asarray(z_img[None], jnp.float32),
                         jnp.asarray([[40.0, 40.0, 88.0, 88.0]]), method=model.template)
  _, logits, deltas = model.apply(converted, jnp.asarray(x_img[None], jnp.float32), template,
                                  method=model.search)
  got_scores = np.asarray(jax.nn.softmax(logits[0], axis=-1)[..., 1], np.float64).reshape(-1)
  got_deltas = np.asarray(deltas[0], np.float64).reshape(-1, 4)
  want_scores, want_deltas = np_release_cm(z_img, x_img, cm, config.model.cm.channels)
  assert got_scores.shape == want_scores.shape == (4 * 4 * K,)
  # Logits are ~1e-3 (xcorr scale): compare score offsets from 0.5 relative to their spread.
  spread = np.abs(want_scores - 0.5).max()
  assert spread > 1e-5
  np.testing.assert_allclose(got_scores - 0.5, want_scores - 0.5, atol=1e-3 * spread)
  np.testing.assert_allclose(got_deltas, want_deltas, atol=1e-3 * np.abs(want_deltas).max())


# ------------------------------------------ (c) FM: BN, conv, FC permutation ---
def test_fm_relation_matches_numpy_nchw(small):
  config, _, converted, _, fm = small
  n = config.model.fm.pool_size
  c = sum(config.model.backbone.channels[int(name[-1]) - 1] for name in config.model.fm.features)
  rng = np.random.default_rng(3)
  z = rng.normal(size=(1, 1, n, n, c))
  x = rng.normal(size=(1, 3, n, n, c))
  model = models.build_model(config)
  cls, box = model.apply(converted, jnp.asarray(z, jnp.float32), jnp.asarray(x, jnp.float32),
                         method=lambda m, z, x: m.fm.relation(z, x))

  def linear(v, name):
    return v @ np.asarray(fm[name + '.weight'], np.float64).T + fm[name + '.bias']

  want_cls, want_box = [], []
  for i in range(3):
    pair = np.concatenate([z[0, 0], x[0, i]], axis=-1).transpose(2, 0, 1)  # NCHW, z first
    y = np.maximum(np_conv(pair, fm['siam_fusion.roi_conv.roi_conv0.weight'],
                           fm['siam_fusion.roi_conv.roi_conv0.bias'], pad=1), 0.0)
    y = y.reshape(-1)  # PyTorch's view(n, -1) of [C, H, W]
    for j in range(config.model.fm.num_fc):
      y = np.maximum(linear(y, f'siam_fusion.linear_layers.linear{j}'), 0.0)
    want_cls.append(linear(y, 'rcnn_cls'))
    want_box.append(linear(y, 'rcnn_bbox'))
  np.testing.assert_allclose(np.asarray(cls[0]), np.array(want_cls), rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(np.asarray(box[0]), np.array(want_box), rtol=1e-4, atol=1e-4)


def test_fc_permutation_alone():
  """nchw_flatten_to_nhwc: PyTorch's Linear on an NCHW flatten == Dense on NHWC flatten."""
  rng = np.random.default_rng(4)
  c, h, w, o = 5, 3, 4, 7
  weight = rng.normal(size=(o, c * h * w))
  feat = rng.normal(size=(h, w, c))
  torch_out = weight @ feat.transpose(2, 0, 1).reshape(-1)
  ours = feat.reshape(-1) @ convert.nchw_flatten_to_nhwc(weight, c, h, w)
  np.testing.assert_allclose(ours, torch_out, rtol=1e-12)


def test_fm_batchnorm_matches_numpy(small):
  config, _, converted, _, fm = small
  c = config.model.backbone.channels[3]  # conv4 = bn_list.0
  f = np.random.default_rng(5).normal(size=(1, 4, 4, c))
  model = models.build_model(config)
  got = model.apply(converted, jnp.asarray(f, jnp.float32),
                    method=lambda m, f: m.fm.norms[0](f, use_running_average=True))
  bn = 'feat_extractor.bn_list.0.'
  want = ((f - fm[bn + 'running_mean']) / np.sqrt(fm[bn + 'running_var'] + 1e-5)
          * fm[bn + 'weight'] + fm[bn + 'bias'])
  np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)


# -------------------------------------------------------------------- pysot ---
def _pysot_config():
  config = spm_alexnet.get_config('runlocal')
  config.model.backbone.norm = 'batchnorm'
  config.model.backbone.groups = (1, 1, 1, 1, 1)
  return config


def _pysot_state(config, legacy=False):
  rng = np.random.default_rng(6)
  chans = (3,) + tuple(config.model.backbone.channels)
  kernels = (11, 5, 3, 3, 3)
  state = {}
  for i in range(5):
    conv = f'features.{(0, 4, 8, 11, 14)[i]}' if legacy else f'layer{i + 1}.0'
    bn = f'features.{(1, 5, 9, 12, 15)[i]}' if legacy else f'layer{i + 1}.1'
    state[conv + '.weight'] = rng.normal(size=(chans[i + 1], chans[i], kernels[i], kernels[i]))
    state[conv + '.bias'] = rng.normal(size=(chans[i + 1],))
    for name in ('weight', 'bias', 'running_mean', 'running_var'):
      state[f'{bn}.{name}'] = rng.uniform(0.5, 1.5, size=(chans[i + 1],))
    state[f'{bn}.num_batches_tracked'] = np.array(7)
  return state


@pytest.mark.parametrize('legacy', [False, True])
def test_pysot_conv_only(legacy):
  config = _pysot_config()
  state = _pysot_state(config, legacy)
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  zeros = jax.tree.map(lambda s: np.zeros(s.shape, np.float32), shapes)
  out = convert.convert_pysot_alexnet(state, config, zeros, conv_only=True)
  export.check_variables(config, out)
  for i in range(5):
    conv = f'features.{(0, 4, 8, 11, 14)[i]}' if legacy else f'layer{i + 1}.0'
    got = out['params']['backbone'][f'conv{i + 1}']
    np.testing.assert_allclose(got['kernel'], state[conv + '.weight'].transpose(2, 3, 1, 0),
                               rtol=1e-6)
    np.testing.assert_allclose(got['bias'], state[conv + '.bias'], rtol=1e-6)
    # Our BatchNorms sit elsewhere: left as given.
    assert not np.any(out['params']['backbone'][f'conv{i + 1}_bn']['scale'])
  assert not np.any(out['params']['cm']['z_cls_conv']['kernel'])


def test_pysot_mismatch_is_reported():
  config = _pysot_config()
  state = _pysot_state(config)
  with pytest.raises(ValueError) as exc:
    convert.convert_pysot_alexnet(state, config)
  msg = str(exc.value)
  assert 'conv -> BN -> maxpool -> ReLU' in msg and 'conv5' in msg and 'conv_only' in msg
  lrn = spm_alexnet.get_config('runlocal')
  with pytest.raises(ValueError, match="backbone.norm is 'lrn'"):
    convert.convert_pysot_alexnet(state, lrn)
  with pytest.raises(ValueError, match='ungrouped'):
    convert.convert_pysot_alexnet(state, lrn, conv_only=True)
  with pytest.raises(ValueError, match='not a pysot AlexNet'):
    convert.convert_pysot_alexnet({'foo.weight': np.zeros(1)}, config, conv_only=True)


# ----------------------------------------------------------------- script ---
def test_script_converts_npz(small, tmp_path):
  """scripts/convert_weights.py with .npz state dicts (no torch needed)."""
  config, variables, _, cm, fm = small
  np.savez(tmp_path / 'cm.npz', **cm)
  np.savez(tmp_path / 'fm.npz', **fm)
  out = tmp_path / 'model'
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, 'scripts', 'convert_weights.py'), 'release',
       '--cm', str(tmp_path / 'cm.npz'), '--fm', str(tmp_path / 'fm.npz'), '--out', str(out),
       '--config', os.path.join(ROOT, 'configs', 'spm_alexnet.py') + ':runlocal'],
      capture_output=True, text=True, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  loaded_config, loaded = export.load_checked(str(out))
  assert loaded_config.model.cm.channels == config.model.cm.channels
  jax.tree.map(np.testing.assert_array_equal, loaded, variables)


def test_torch_round_trip(small, tmp_path):
  """Real .pt files written by torch.save (skipped without torch)."""
  torch = pytest.importorskip('torch')
  config, variables, _, cm, fm = small
  torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in cm.items()}, tmp_path / 'cm.pt')
  torch.save({'state_dict': {'module.' + k: torch.from_numpy(np.asarray(v))
                             for k, v in fm.items()}}, tmp_path / 'fm.pt')
  sys.path.insert(0, os.path.join(ROOT, 'scripts'))
  try:
    import convert_weights  # pylint: disable=import-outside-toplevel
  finally:
    sys.path.pop(0)
  cm_state = convert_weights.load_state_dict(str(tmp_path / 'cm.pt'))
  fm_state = convert_weights.load_state_dict(str(tmp_path / 'fm.pt'))
  _, converted = convert.convert_release(cm_state, fm_state, config)
  jax.tree.map(np.testing.assert_array_equal, converted, variables)


def test_script_pysot_writes_init_backbone(tmp_path):
  """``pysot --conv_only`` writes a backbone file that spm_jax.train.state accepts."""
  config = _pysot_config()
  np.savez(tmp_path / 'alexnet.npz', **_pysot_state(config))
  config_path = tmp_path / 'pysot_config.py'
  config_path.write_text(
      'from spm_jax import config_file\n'
      "spm_alexnet = config_file.load_module('spm_alexnet')\n"
      'def get_config(arg=None):\n'
      "  c = spm_alexnet.get_config('runlocal')\n"
      "  c.model.backbone.norm = 'batchnorm'\n"
      '  c.model.backbone.groups = (1, 1, 1, 1, 1)\n'
      '  return c\n')
  script = [sys.executable, os.path.join(ROOT, 'scripts', 'convert_weights.py'), 'pysot',
            '--backbone', str(tmp_path / 'alexnet.npz'), '--config', str(config_path),
            '--out', str(tmp_path / 'out')]
  env = dict(os.environ, PYTHONPATH=ROOT)
  proc = subprocess.run(script + ['--conv_only'], capture_output=True, text=True, timeout=300,
                        env=env)
  assert proc.returncode == 0, proc.stderr[-3000:]
  state_lib = pytest.importorskip('spm_jax.train.state')
  variables = random_variables(config)
  loaded = state_lib.init_backbone(variables, str(tmp_path / 'out' / 'backbone.msgpack'))
  np.testing.assert_allclose(loaded['params']['backbone']['conv2']['kernel'],
                             _pysot_state(config)['layer2.0.weight'].transpose(2, 3, 1, 0),
                             rtol=1e-6)
