"""Shapes of every stage and numerical checks of LRN and the correlation head."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.models import cm_head

spm_alexnet = config_file.load_module('spm_alexnet')


@pytest.fixture(scope='module')
def full():
  config = spm_alexnet.get_config()
  variables = models.init_variables(config, jax.random.key(0))
  return config, models.build_model(config), variables


def test_backbone_shapes(full):
  config, model, variables = full
  for size, side in ((127, 16), (271, 34)):
    feats = model.apply(variables, jnp.zeros((2, size, size, 3)), method=model.embed)
    assert feats['conv1'].shape == (2, 2 * side, 2 * side, 96)
    assert feats['conv2'].shape == (2, side, side, 256)
    assert feats['conv3'].shape == (2, side, side, 384)
    assert feats['conv4'].shape == (2, side, side, 384)
    assert feats['conv5'].shape == (2, side, side, 256)
  # The two FM taps: 384 + 256 = 640 channels.
  assert sum(feats[n].shape[-1] for n in config.model.fm.features) == 640


def test_stage_shapes(full):
  config, model, variables = full
  z = jnp.zeros((2, 127, 127, 3))
  x = jnp.zeros((2, 271, 271, 3))
  z_box = jnp.tile(jnp.array([[32.0, 40.0, 96.0, 88.0]]), (2, 1))
  proposals = jnp.tile(jnp.array([[[100.0, 90.0, 180.0, 170.0]]]), (2, 9, 1))
  template = model.apply(variables, z, z_box, method=model.template)
  assert template['kernels']['cls'].shape == (2, 4, 4, 256, 10)
  assert template['kernels']['box'].shape == (2, 4, 4, 256, 20)
  assert template['regions'].shape == (2, 1, 6, 6, 640)
  feats, logits, deltas = model.apply(variables, x, template, method=model.search)
  assert logits.shape == (2, 19, 19, 5, 2)
  assert deltas.shape == (2, 19, 19, 5, 4)
  fm_logits, fm_deltas = model.apply(variables, feats, proposals, template, method=model.refine)
  assert fm_logits.shape == (2, 9, 2) and fm_deltas.shape == (2, 9, 4)
  out = model.apply(variables, z, z_box, x, proposals)
  assert out['cm_logits'].shape == (2, 19, 19, 5, 2) and out['fm_deltas'].shape == (2, 9, 4)


def test_variables_have_both_collections(full):
  config, _, variables = full
  assert set(variables) == {'params', 'batch_stats'}
  p = variables['params']
  # Grouped convolutions as in the original AlexNet: conv2 sees 96 / 2 inputs.
  assert p['backbone']['conv2']['kernel'].shape == (5, 5, 48, 256)
  assert p['fm']['relation_conv']['kernel'].shape == (3, 3, 1280, 256)
  assert p['fm']['fc0']['kernel'].shape == (256 * 36, 256)


def test_batchnorm_backbone_switch():
  config = spm_alexnet.get_config('runlocal')
  config.model.backbone.norm = 'batchnorm'
  variables = models.init_variables(config, jax.random.key(1))
  stats = variables['batch_stats']['backbone']
  assert {'conv1_bn', 'conv2_bn', 'conv3_bn', 'conv4_bn', 'conv5_bn'} <= set(stats)


def lrn_reference(x, size, alpha, beta, k):
  x = np.asarray(x, np.float64)
  c = x.shape[-1]
  out = np.empty_like(x)
  for i in range(c):
    lo, hi = max(0, i - size // 2), min(c, i + (size - 1) // 2 + 1)
    s = np.sum(x[..., lo:hi] ** 2, axis=-1)
    out[..., i] = x[..., i] / (k + alpha / size * s) ** beta
  return out


def test_local_response_norm_matches_reference():
  x = np.random.default_rng(0).normal(0, 30, (2, 3, 4, 11)).astype(np.float32)
  got = models.local_response_norm(jnp.asarray(x), size=5, alpha=1e-2, beta=0.75, k=1.0)
  np.testing.assert_allclose(got, lrn_reference(x, 5, 1e-2, 0.75, 1.0), rtol=1e-5)


def test_xcorr_matches_loop():
  rng = np.random.default_rng(1)
  search = rng.normal(size=(7, 6, 3))
  kernel = rng.normal(size=(3, 2, 3, 4))
  got = np.asarray(cm_head.xcorr(jnp.asarray(search, jnp.float32), jnp.asarray(kernel, jnp.float32)))
  ref = np.zeros((5, 5, 4))
  for i in range(5):
    for j in range(5):
      for o in range(4):
        ref[i, j, o] = np.sum(search[i:i + 3, j:j + 2, :] * kernel[..., o])
  np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_cm_head_channel_layout():
  """Kernel channel a * C + c is anchor-output a; logits are laid out (2, k)."""
  head = cm_head.CMHead(num_anchors=2, channels=3, xcorr_scale=1.0)
  z = jnp.asarray(np.random.default_rng(2).normal(size=(1, 6, 6, 4)), jnp.float32)
  x = jnp.asarray(np.random.default_rng(3).normal(size=(1, 9, 9, 4)), jnp.float32)
  variables = head.init(jax.random.key(0), z, x)
  p = variables['params']
  kernels = head.apply(variables, z, method=head.template)
  raw = jax.lax.conv_general_dilated(z, p['z_cls_conv']['kernel'], (1, 1), 'VALID',
                                     dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  raw = raw + p['z_cls_conv']['bias']
  for a in range(4):
    for c in range(3):
      np.testing.assert_allclose(kernels['cls'][0, :, :, c, a], raw[0, :, :, a * 3 + c], rtol=1e-5)
  logits, deltas = head.apply(variables, z, x)
  assert logits.shape == (1, 4, 4, 2, 2) and deltas.shape == (1, 4, 4, 2, 4)
  xs = jax.lax.conv_general_dilated(x, p['x_cls_conv']['kernel'], (1, 1), 'VALID',
                                    dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  xs = xs + p['x_cls_conv']['bias']
  # Foreground logit of anchor 1 is correlation output channel 1 * k + 1 = 3.
  want = cm_head.xcorr(xs[0], kernels['cls'][0])[..., 3]
  np.testing.assert_allclose(logits[0, :, :, 1, 1], want, rtol=1e-4, atol=1e-5)
