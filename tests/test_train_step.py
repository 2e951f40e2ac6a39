"""The pmap-ed train step on the tiny config: updates, no recompilation, NaN guard, cm_only."""

import logging

import jax
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.train import fake_data
from spm_jax.train import train_step as step_lib
from spm_jax.train import trainer

synthetic = config_file.load_module('synthetic')


def tiny_config(arg='runlocal'):
  config = synthetic.get_config(arg)
  config.input_kind = 'fake'
  return trainer.finalize_config(config)


class _Compiles(logging.Handler):
  def __init__(self):
    super().__init__()
    self.messages = []

  def emit(self, record):
    msg = record.getMessage()
    if msg.startswith('Compiling'):
      self.messages.append(msg)


@pytest.fixture(scope='module')
def setup():
  config = tiny_config()
  state, _ = trainer.make_state(config, jax.random.PRNGKey(0))
  p_step = step_lib.make_p_train_step(config)
  n = jax.local_device_count()
  rng = np.broadcast_to(np.asarray(jax.random.PRNGKey(1)), (n, 2))
  batches = fake_data.FakePairs(config.model, config.batch_size, seed=0)
  return config, state, p_step, rng, batches


def test_steps_update_state_without_recompiling(setup):
  config, state, p_step, rng, batches = setup
  n = jax.local_device_count()
  p_state = trainer.replicate(state)
  handler = _Compiles()
  logging.getLogger('jax').addHandler(handler)
  try:
    with jax.log_compiles():
      seen = []
      for _ in range(3):
        p_state, metrics = p_step(p_state, step_lib.shard_batch(next(batches), n), rng)
        seen.append(len(handler.messages))
  finally:
    logging.getLogger('jax').removeHandler(handler)
  assert seen[1] == seen[0] and seen[2] == seen[0], handler.messages[seen[0]:]
  m = trainer.unreplicate(metrics)
  for k in ('total', 'cm_cls', 'cm_box', 'fm_cls', 'fm_box', 'lr', 'grad_norm'):
    assert np.isfinite(m[k]), k
  assert bool(m['finite'])
  np.testing.assert_allclose(m['total'], m['cm_cls'] + 2 * m['cm_box'] + m['fm_cls'] + m['fm_box'],
                             rtol=1e-5)
  assert m['fm_pos'] + m['fm_neg'] <= config.fm_train.num_samples
  new = trainer.unreplicate(p_state)
  assert int(new.step) == 3
  k0 = np.asarray(state.params['backbone']['conv1']['kernel'])
  assert not np.allclose(new.params['backbone']['conv1']['kernel'], k0)
  s0 = np.asarray(state.batch_stats['backbone']['conv1_bn']['mean'])
  assert not np.allclose(new.batch_stats['backbone']['conv1_bn']['mean'], s0)


def test_non_finite_loss_leaves_state_unchanged(setup):
  config, state, p_step, rng, batches = setup
  n = jax.local_device_count()
  p_state = trainer.replicate(state)
  batch = next(batches)
  batch['reg_target'][...] = np.nan
  p_state, metrics = p_step(p_state, step_lib.shard_batch(batch, n), rng)
  m = trainer.unreplicate(metrics)
  assert not bool(m['finite']) and not np.isfinite(m['total'])
  after = trainer.unreplicate(p_state)
  assert int(after.step) == 0
  for a, b in zip(jax.tree_util.tree_leaves(after.params), jax.tree_util.tree_leaves(state.params)):
    np.testing.assert_array_equal(a, b)


def test_cm_only_trains_no_fm():
  """``variant=cm_only``: no FM outputs, no FM losses (checked abstractly, no compile)."""
  config = tiny_config('runlocal,variant=cm_only')
  assert not step_lib.uses_fm(config)
  assert tuple(config.loss.weights) == (1.0, 2.0, 0.0, 0.0)
  model = models.build_model(config)
  batch = fake_data.make_batch(0, 0, 2, config.model)
  variables = jax.eval_shape(lambda: models.init_variables(config, jax.random.PRNGKey(0)))
  keys = jax.random.split(jax.random.PRNGKey(0), 2)

  def losses(variables, batch):
    out, _ = model.apply(variables, batch, keys, mutable=['batch_stats'],
                         method=lambda m, b, k: step_lib.forward(
                             m, b, k, config=config, anchors=step_lib.model_anchors(config.model)))
    return out, step_lib.compute_losses(out, batch, config)

  out, parts = jax.eval_shape(losses, variables, batch)
  assert set(out) == {'cm_logits', 'cm_deltas'}
  assert set(parts) == {'cm_cls', 'cm_box', 'total'}

