"""The FM-stage ablations of sec. 5.3 and the CM candidate recall of fig. 6b.

* ``fm.head='xcorr'``: depthwise cross-correlation of template and proposal
  features instead of the relation network -- numbers against a NumPy float64
  loop, shapes and gradients of the head and of the whole model;
* ``fm.features=('conv4',)``: single-layer regional features;
* ``spm_jax.analysis.recall``: best-candidate IoU and recall against hand
  counts, and the nesting of the K candidates that lets one K = 15 pass give
  the recall of every smaller K.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.analysis import recall
from spm_jax.models import fm_head
from spm_jax.tracking import step as step_ops

spm_alexnet = config_file.load_module('spm_alexnet')
synthetic = config_file.load_module('synthetic')


def _xcorr_reference(x, z):
  """float64 loop: out[n, y, x, c] = sum_ij xpad[n, y + i, x + j, c] z[n, i, j, c] / (h w)."""
  x = np.asarray(x, np.float64)
  z = np.asarray(z, np.float64)
  n, h, w, c = x.shape
  py, px = (h - 1) // 2, (w - 1) // 2
  out = np.zeros_like(x)
  for b in range(n):
    for oy in range(h):
      for ox in range(w):
        acc = np.zeros(c)
        for i in range(h):
          for j in range(w):
            yy, xx = oy + i - py, ox + j - px  # input row/col under kernel tap (i, j)
            if 0 <= yy < h and 0 <= xx < w:
              acc += x[b, yy, xx] * z[b, i, j]
        out[b, oy, ox] = acc / (h * w)
  return out


def _pairs(x, z):
  """[B, K, ...] proposals and [B, 1 or K, ...] templates as [B K, ...] per-proposal pairs."""
  return x.reshape((-1,) + x.shape[2:]), np.broadcast_to(z, x.shape).reshape((-1,) + x.shape[2:])


@pytest.mark.parametrize('side, num_templates', [(6, 1), (5, 1), (6, 3)])
def test_depthwise_xcorr_matches_float64_reference(side, num_templates):
  # One template shared by the K = 3 proposals of a pair, or one per proposal.
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 3, side, side, 4)).astype(np.float32)
  z = rng.normal(size=(2, num_templates, side, side, 4)).astype(np.float32)
  got = np.asarray(jax.jit(fm_head.depthwise_xcorr_same)(x, z))
  want = _xcorr_reference(*_pairs(x, z)).reshape(x.shape)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  # The zero shift sits at ((h - 1) // 2, (w - 1) // 2): the plain inner product.
  c = (side - 1) // 2
  np.testing.assert_allclose(got[:, :, c, c], (x.astype(np.float64) * z).sum((2, 3)) / side**2,
                             rtol=1e-5, atol=1e-6)


def _xcorr_grads_reference(x, z, g):
  """float64 loops ([N, h, w, C] pairs): the gradients of sum(g * xcorr(x, z)) from the terms.

  Every term ``x[yy, xx] z[i, j] / (h w)`` of output cell (oy, ox) sends
  ``g[oy, ox] z[i, j] / (h w)`` to ``dx[yy, xx]`` and ``g[oy, ox] x[yy, xx] / (h w)``
  to ``dz[i, j]``.
  """
  x, z, g = (np.asarray(a, np.float64) for a in (x, z, g))
  n, h, w, _ = x.shape
  py, px = (h - 1) // 2, (w - 1) // 2
  dx, dz = np.zeros_like(x), np.zeros_like(z)
  for b in range(n):
    for oy in range(h):
      for ox in range(w):
        for i in range(h):
          for j in range(w):
            yy, xx = oy + i - py, ox + j - px
            if 0 <= yy < h and 0 <= xx < w:
              dx[b, yy, xx] += g[b, oy, ox] * z[b, i, j] / (h * w)
              dz[b, i, j] += g[b, oy, ox] * x[b, yy, xx] / (h * w)
  return dx, dz


@pytest.mark.parametrize('shape, num_templates', [((6, 6), 1), ((5, 5), 1), ((4, 7), 1),
                                                 ((1, 1), 1), ((6, 6), 3)])
def test_depthwise_xcorr_gradients_match_float64_reference(shape, num_templates):
  # Even, odd and non-square grids (asymmetric 'SAME' padding); a shared
  # template's gradient is the sum over its proposals.
  rng = np.random.default_rng(1)
  x, g = (rng.normal(size=(2, 3) + shape + (3,)).astype(np.float32) for _ in range(2))
  z = rng.normal(size=(2, num_templates) + shape + (3,)).astype(np.float32)
  _, vjp = jax.vjp(fm_head.depthwise_xcorr_same, x, z)
  dx, dz = jax.jit(vjp)(g)
  xs, zs = _pairs(x, z)
  want_dx, want_dz = _xcorr_grads_reference(xs, zs, g.reshape(xs.shape))
  want_dz = want_dz.reshape(x.shape).sum(1, keepdims=True) if num_templates == 1 else want_dz
  np.testing.assert_allclose(np.asarray(dx), want_dx.reshape(x.shape), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(dz), want_dz.reshape(z.shape), rtol=1e-5, atol=1e-6)


def test_depthwise_xcorr_rejects_mismatched_template():
  with pytest.raises(ValueError, match='template shape'):
    fm_head.depthwise_xcorr_same(jnp.zeros((2, 3, 6, 6, 3)), jnp.zeros((2, 1, 5, 5, 3)))
  with pytest.raises(ValueError, match='template shape'):
    fm_head.depthwise_xcorr_same(jnp.zeros((2, 3, 6, 6, 3)), jnp.zeros((2, 2, 6, 6, 3)))


def _head(head, features=('conv4', 'conv2')):
  return fm_head.FMHead(features=features, conv_channels=8, hidden=16, head=head)


@pytest.mark.parametrize('head', ['relation', 'xcorr'])
def test_head_shapes_and_gradients(head):
  rng = np.random.default_rng(1)
  b, k, s, c = 2, 5, 6, 12
  z = jnp.asarray(rng.normal(size=(b, 1, s, s, c)), jnp.float32)
  x = jnp.asarray(rng.normal(size=(b, k, s, s, c)), jnp.float32)
  module = _head(head)
  variables = module.init(jax.random.key(0), z, x, method=module.relation)
  kernel = variables['params']['relation_conv']['kernel']
  # Relation: conv over concat([z, x]) (2C inputs); xcorr: over the C-channel correlation.
  assert kernel.shape == (3, 3, 2 * c if head == 'relation' else c, 8)
  logits, deltas = module.apply(variables, z, x, method=module.relation)
  assert logits.shape == (b, k, 2) and deltas.shape == (b, k, 4)

  def loss(params, z, x):
    lg, dl = module.apply({'params': params}, z, x, method=module.relation)
    return jnp.sum(jax.nn.log_softmax(lg)[..., 1]) + jnp.sum(dl**2)

  g_params, g_z, g_x = jax.grad(loss, argnums=(0, 1, 2))(variables['params'], z, x)
  for leaf in jax.tree.leaves(g_params) + [g_z, g_x]:
    assert np.all(np.isfinite(np.asarray(leaf)))
  assert float(jnp.abs(g_params['relation_conv']['kernel']).sum()) > 0
  # Both inputs reach the output (the correlation mixes template and proposal).
  assert float(jnp.abs(g_z).sum()) > 0 and float(jnp.abs(g_x).sum()) > 0


def test_xcorr_head_broadcasts_template_over_candidates():
  rng = np.random.default_rng(2)
  z = jnp.asarray(rng.normal(size=(1, 1, 6, 6, 4)), jnp.float32)
  x = jnp.asarray(rng.normal(size=(1, 3, 6, 6, 4)), jnp.float32)
  module = _head('xcorr')
  variables = module.init(jax.random.key(0), z, x, method=module.relation)
  a = module.apply(variables, z, x, method=module.relation)
  b = module.apply(variables, jnp.tile(z, (1, 3, 1, 1, 1)), x, method=module.relation)
  # Equal up to float rounding (the two lowerings sum in another order: 1e-8 apart
  # on AVX-512); a template applied to the wrong candidate moves outputs of ~1e-2.
  for got, want in zip(a, b):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_unknown_head_is_refused():
  z = jnp.zeros((1, 1, 6, 6, 4))
  with pytest.raises(ValueError, match='xcorr'):
    _head('dot').init(jax.random.key(0), z, z, method=_head('dot').relation)


@pytest.mark.parametrize('arg,fm_channels,conv_in', [
    ('runlocal,fm_head=xcorr', 96 + 64, 96 + 64),
    ('runlocal,fm_features=conv4', 96, 2 * 96),
])
def test_model_variants_build_and_track(arg, fm_channels, conv_in):
  config = synthetic.get_config(arg)
  variables = models.init_variables(config, jax.random.key(0))
  params = variables['params']['fm']
  assert params['relation_conv']['kernel'].shape[2] == conv_in
  assert set(variables['batch_stats']['fm']) == {f'norm_{n}' for n in config.model.fm.features}
  model = models.build_model(config)
  m = config.model
  z = jnp.zeros((1, m.template_size, m.template_size, 3))
  template = model.apply(variables, z, jnp.array([[40.0, 40.0, 90.0, 80.0]]), method=model.template)
  assert template['regions'].shape == (1, 1, 6, 6, fm_channels)
  # The cached template (tracker path) gives what the uncached one gives.
  cached = model.apply(variables, template, method=model.relation_template)
  x = jnp.asarray(np.random.default_rng(0).uniform(0, 255, (1, m.search_size, m.search_size, 3)),
                  jnp.float32)
  feats, _, _ = model.apply(variables, x, template, method=model.search)
  boxes = jnp.array([[[30.0, 30.0, 90.0, 100.0], [60.0, 50.0, 120.0, 90.0]]])
  a = model.apply(variables, feats, boxes, template, method=model.refine)
  b = model.apply(variables, feats, boxes, cached, method=model.refine)
  assert a[0].shape == (1, 2, 2) and a[1].shape == (1, 2, 4)
  np.testing.assert_allclose(np.asarray(a[0]), np.asarray(b[0]), rtol=1e-4, atol=1e-4)


def test_candidates_are_nested_over_k():
  """The first K of a K = 15 selection are the K-selection, for every K."""
  rng = np.random.default_rng(3)
  xy = rng.uniform(0, 200, (60, 2))
  wh = rng.uniform(20, 60, (60, 2))
  boxes = jnp.asarray(np.concatenate([xy, xy + wh], 1), jnp.float32)
  scores = jnp.asarray(rng.uniform(0, 1, 60), jnp.float32)
  for prev in (boxes[7], jnp.array([500.0, 500.0, 520.0, 520.0])):  # with / without a near box
    picks = {}
    for k in (1, 3, 5, 9, 15):
      config = spm_alexnet.get_config().tracking
      config.num_candidates = k
      config.pre_nms_top_n = 60
      idx, valid = step_ops.select_proposals(boxes, scores, prev, config)
      picks[k] = (np.asarray(idx), np.asarray(valid))
    for k in (1, 3, 5, 9):
      np.testing.assert_array_equal(picks[k][1], picks[15][1][:k])
      np.testing.assert_array_equal(picks[k][0][picks[k][1]], picks[15][0][:k][picks[k][1]])


def test_best_overlaps_and_recall_by_hand():
  gt = np.array([[10, 10, 20, 20], [10, 10, 20, 20], [50, 50, 10, 10], [np.nan] * 4], np.float64)
  proposals = np.zeros((4, 3, 4))
  valid = np.ones((4, 3), bool)
  proposals[1] = [[0, 0, 5, 5], [10, 10, 20, 10], [10, 10, 20, 20]]  # IoU 0, 0.5, 1
  proposals[2] = [[55, 50, 10, 10], [0, 0, 5, 5], [50, 50, 10, 10]]  # IoU 1/3, 0, 1 (invalid)
  valid[2, 2] = False
  best = recall.best_overlaps(proposals, valid, gt)
  assert np.isnan(best[0]) and np.isnan(best[3])  # initial frame, no annotation
  np.testing.assert_allclose(best[1:3], [1.0, 1.0 / 3.0])
  np.testing.assert_allclose(recall.best_overlaps(proposals, valid, gt, k=2)[1:3], [0.5, 1 / 3])
  np.testing.assert_allclose(recall.best_overlaps(proposals, valid, gt, k=1)[1:3], [0.0, 1 / 3])
  out = recall.candidate_recall([best, np.array([np.nan, 0.6, 0.6])], thresholds=[0.3, 0.5, 0.7])
  # Sequence 1: {1, 1/3} -> [1, .5, .5]; sequence 2: {.6, .6} -> [1, 1, 0]; mean over sequences.
  np.testing.assert_allclose(out['recall'], [1.0, 0.75, 0.25])
  assert out['recall_at_0.5'] == pytest.approx(0.75)
  assert out['mean_recall'] == pytest.approx(2.0 / 3.0)
