"""The four losses of eq. (1) against NumPy float64 references."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from spm_jax.train import losses


def np_ce(logits, labels):
  logits = logits.astype(np.float64)
  m = logits.max(-1, keepdims=True)
  logp = logits - m - np.log(np.exp(logits - m).sum(-1, keepdims=True))
  lab = np.clip(labels, 0, 1)
  return -np.take_along_axis(logp, lab[..., None], -1)[..., 0]


def np_smooth_l1(x, beta):
  x = np.abs(x.astype(np.float64))
  return np.where(x < beta, 0.5 * x * x / beta, x - 0.5 * beta)


def _cm_inputs(rng, b=3, s=5, a=5):
  logits = rng.normal(size=(b, s, s, a, 2)).astype(np.float32) * 3
  deltas = rng.normal(size=(b, s, s, a, 4)).astype(np.float32)
  label = rng.choice([-1, 0, 1], size=(b, s, s, a), p=[0.6, 0.3, 0.1]).astype(np.int8)
  target = rng.normal(size=(b, s, s, a, 4)).astype(np.float32)
  weight = (label == 1).astype(np.float32)
  return logits, deltas, label, target, weight


def test_cm_losses_match_numpy():
  rng = np.random.default_rng(0)
  logits, deltas, label, target, weight = _cm_inputs(rng)
  out = losses.cm_losses(logits, deltas, label, target * weight[..., None], weight, beta=1.0 / 9)
  lab = label >= 0
  want_cls = np_ce(logits, label)[lab].mean()
  box = np_smooth_l1(deltas - target * weight[..., None], 1.0 / 9).sum(-1)
  want_box = (box * weight).sum() / weight.sum()
  np.testing.assert_allclose(out['cm_cls'], want_cls, rtol=1e-5)
  np.testing.assert_allclose(out['cm_box'], want_box, rtol=1e-5)


def test_ignored_anchors_do_not_matter():
  rng = np.random.default_rng(1)
  logits, deltas, label, target, weight = _cm_inputs(rng)
  a = losses.cm_losses(logits, deltas, label, target, weight)
  logits2 = np.where((label == -1)[..., None], 1e3, logits)
  deltas2 = np.where((weight == 0)[..., None], 1e3, deltas)
  b = losses.cm_losses(logits2, deltas2, label, target, weight)
  np.testing.assert_allclose(a['cm_cls'], b['cm_cls'], rtol=1e-6)
  np.testing.assert_allclose(a['cm_box'], b['cm_box'], rtol=1e-6)


def test_fm_losses_match_numpy():
  rng = np.random.default_rng(2)
  b, n = 4, 16
  logits = rng.normal(size=(b, n, 2)).astype(np.float32) * 2
  deltas = rng.normal(size=(b, n, 4)).astype(np.float32) * 3
  labels = rng.integers(0, 2, size=(b, n)).astype(np.int32)
  target = rng.normal(size=(b, n, 4)).astype(np.float32) * 3
  mask = rng.uniform(size=(b, n)) < 0.8
  out = losses.fm_losses(logits, deltas, labels, target, mask, beta=1.0)
  want_cls = np_ce(logits, labels)[mask].mean()
  pos = mask & (labels == 1)
  want_box = np_smooth_l1(deltas - target, 1.0).sum(-1)[pos].mean()
  np.testing.assert_allclose(out['fm_cls'], want_cls, rtol=1e-5)
  np.testing.assert_allclose(out['fm_box'], want_box, rtol=1e-5)


def test_no_positives_gives_zero_box_loss():
  out = losses.fm_losses(jnp.zeros((2, 4, 2)), jnp.ones((2, 4, 4)), jnp.zeros((2, 4), jnp.int32),
                         jnp.zeros((2, 4, 4)), jnp.ones((2, 4), bool))
  assert float(out['fm_box']) == 0.0
  np.testing.assert_allclose(out['fm_cls'], np.log(2.0), rtol=1e-6)


def test_total_is_weighted_sum():
  parts = {'cm_cls': 1.0, 'cm_box': 2.0, 'fm_cls': 3.0, 'fm_box': 4.0}
  assert losses.total_loss(parts, (1, 2, 1, 1)) == 1 + 4 + 3 + 4
  # cm_only: FM losses absent.
  assert losses.total_loss({'cm_cls': 1.0, 'cm_box': 2.0}, (1, 2, 1, 1)) == 5


def pmap_losses_against_numpy():
  """On 4 devices: pmean of per-device CM losses and the float64 loss of the whole batch.

  Device 0 has no labelled anchor at all and the devices hold uneven numbers of
  positives, so dropping the global normalisation (the psum of the counts) changes the
  result. Returns a dict of the device count, the two values of each loss.
  """
  rng = np.random.default_rng(3)
  logits, deltas, label, target, weight = _cm_inputs(rng, b=4)
  label[:1] = -1
  weight[:1] = 0
  lab = label >= 0
  want_cls = np_ce(logits, label)[lab].mean()
  box = np_smooth_l1(deltas - target * weight[..., None], 1.0 / 9).sum(-1)
  want_box = (box * weight).sum() / weight.sum()
  n = jax.local_device_count()
  split = lambda x: x.reshape((n, 4 // n) + x.shape[1:])
  fn = jax.pmap(lambda *a: jax.lax.pmean(losses.cm_losses(*a, beta=1.0 / 9, axis_name='i'), 'i'),
                axis_name='i')
  got = fn(*map(split, (logits, deltas, label, target * weight[..., None], weight)))
  return {'devices': n, 'cm_cls': [float(got['cm_cls'][0]), float(want_cls)],
          'cm_box': [float(got['cm_box'][0]), float(want_box)]}


def test_global_normalisation_under_pmap_equals_whole_batch():
  """Run on 4 forced CPU devices in a subprocess (XLA_FLAGS), so it never degenerates to one."""
  code = ('import importlib.util, json, sys; '
          f'spec = importlib.util.spec_from_file_location("t", {__file__!r}); '
          'm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); '
          'print(json.dumps(m.pmap_losses_against_numpy()))')
  env = dict(os.environ, JAX_PLATFORMS='cpu',
             XLA_FLAGS='--xla_force_host_platform_device_count=4')
  proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env,
                        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  assert out['devices'] == 4
  np.testing.assert_allclose(*out['cm_cls'], rtol=1e-5)
  np.testing.assert_allclose(*out['cm_box'], rtol=1e-5)


def test_compute_losses_uses_each_stages_beta():
  """``loss.cm_smooth_l1_beta`` sets the CM box loss's beta, the FM one keeps ``smooth_l1_beta``."""
  import ml_collections
  from spm_jax.train import train_step

  rng = np.random.default_rng(4)
  logits, deltas, label, target, weight = _cm_inputs(rng)
  b, n = 2, 8
  fm_deltas = rng.normal(size=(b, n, 4)).astype(np.float32) * 3
  fm_target = rng.normal(size=(b, n, 4)).astype(np.float32) * 3
  outputs = {'cm_logits': logits, 'cm_deltas': deltas,
             'fm_logits': rng.normal(size=(b, n, 2)).astype(np.float32),
             'fm_deltas': fm_deltas,
             'fm_samples': {'labels': np.ones((b, n), np.int32), 'reg_target': fm_target,
                            'mask': np.ones((b, n), bool)}}
  batch = {'cls_label': label, 'reg_target': target * weight[..., None], 'reg_weight': weight}
  config = ml_collections.ConfigDict({'loss': {'smooth_l1_beta': 1.0, 'cm_smooth_l1_beta': None,
                                               'weights': (1.0, 2.0, 1.0, 1.0)}})
  cm_box = lambda beta: ((np_smooth_l1(deltas - target * weight[..., None], beta).sum(-1) * weight)
                         .sum() / weight.sum())
  want_fm = np_smooth_l1(fm_deltas - fm_target, 1.0).sum(-1).mean()
  out = train_step.compute_losses(outputs, batch, config)
  np.testing.assert_allclose(out['cm_box'], cm_box(1.0), rtol=1e-5)
  config.loss.cm_smooth_l1_beta = 1.0 / 9
  out = train_step.compute_losses(outputs, batch, config)
  np.testing.assert_allclose(out['cm_box'], cm_box(1.0 / 9), rtol=1e-5)
  np.testing.assert_allclose(out['fm_box'], want_fm, rtol=1e-5)
  assert not np.isclose(cm_box(1.0), cm_box(1.0 / 9), rtol=1e-3)
