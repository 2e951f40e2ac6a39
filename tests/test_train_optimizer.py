"""Learning-rate schedule, weight-decay mask, frozen layers, no recompilation."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from spm_jax.train import optimizer


def _config(total=100, warmup=10, frozen=(), weight_decay=1e-4, grad_clip=10.0):
  c = ml_collections.ConfigDict()
  c.total_steps = total
  c.lr = ml_collections.ConfigDict(dict(base=1e-2, final=1e-4, warmup_steps=warmup,
                                        warmup_init=5e-3))
  c.optimizer = ml_collections.ConfigDict(dict(momentum=0.9, nesterov=False,
                                               weight_decay=weight_decay, grad_clip=grad_clip,
                                               frozen=frozen))
  return c


def _params():
  return {
      'backbone': {'conv1': {'kernel': jnp.ones((3, 3, 3, 4)), 'bias': jnp.ones((4,))},
                   'conv1_bn': {'scale': jnp.ones((4,)), 'bias': jnp.ones((4,))},
                   'conv2': {'kernel': jnp.ones((3, 3, 4, 4)), 'bias': jnp.ones((4,))}},
      'fm': {'fc0': {'kernel': jnp.ones((8, 4)), 'bias': jnp.ones((4,))}},
  }


def test_schedule_warmup_then_log_decay():
  lr = optimizer.make_lr_schedule(_config(total=110, warmup=10))
  np.testing.assert_allclose(lr(0), 5e-3, rtol=1e-6)
  np.testing.assert_allclose(lr(5), 7.5e-3, rtol=1e-6)
  np.testing.assert_allclose(lr(10), 1e-2, rtol=1e-6)
  np.testing.assert_allclose(lr(60), 1e-3, rtol=1e-5)  # geometric midpoint of 1e-2 .. 1e-4
  np.testing.assert_allclose(lr(110), 1e-4, rtol=1e-5)
  # Log-linear: constant ratio between consecutive steps after warm-up.
  r = [float(lr(t + 1) / lr(t)) for t in range(10, 109, 7)]
  np.testing.assert_allclose(r, r[0], rtol=1e-4)


def test_decay_mask_kernels_only():
  mask = optimizer.decay_mask(_params())
  assert mask['backbone']['conv1']['kernel'] and mask['fm']['fc0']['kernel']
  assert not mask['backbone']['conv1']['bias'] and not mask['backbone']['conv1_bn']['scale']


def test_weight_decay_and_momentum_sgd():
  config = _config(warmup=0, grad_clip=0.0)
  tx = optimizer.make_optimizer(config, optimizer.make_lr_schedule(config))
  params = _params()
  state = tx.init(params)
  zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
  updates, _ = tx.update(zeros, state, params)
  # lr 1e-2 at step 0, wd 1e-4: kernels shrink by 1e-6, biases and BN stay.
  np.testing.assert_allclose(updates['backbone']['conv1']['kernel'], -1e-6, rtol=1e-5)
  np.testing.assert_array_equal(updates['backbone']['conv1']['bias'], 0.0)
  np.testing.assert_array_equal(updates['backbone']['conv1_bn']['scale'], 0.0)


def test_frozen_layers_get_no_update_and_no_state():
  config = _config(frozen=('backbone/conv1/.*', 'backbone/conv1_bn/.*'))
  optimizer.check_frozen(config, _params())
  tx = optimizer.make_optimizer(config, optimizer.make_lr_schedule(config))
  params = _params()
  state = tx.init(params)
  grads = jax.tree_util.tree_map(jnp.ones_like, params)
  updates, state = jax.jit(tx.update)(grads, state, params)
  assert float(jnp.abs(updates['backbone']['conv1']['kernel']).max()) == 0.0
  assert float(jnp.abs(updates['backbone']['conv1_bn']['scale']).max()) == 0.0
  assert float(jnp.abs(updates['backbone']['conv2']['kernel']).max()) > 0.0
  n_state = sum(x.size for x in jax.tree_util.tree_leaves(state))
  n_train = sum(x.size for x in jax.tree_util.tree_leaves(params)) - (108 + 4 + 4 + 4)
  assert n_state == n_train + 1  # momentum of the trainable params + the schedule step count
  with pytest.raises(ValueError, match='matches no parameter'):
    optimizer.check_frozen(_config(frozen=('backbone/conv9/.*',)), _params())


def test_clipping_bounds_the_update():
  config = _config(warmup=0, weight_decay=0.0, grad_clip=1.0)
  tx = optimizer.make_optimizer(config, optimizer.make_lr_schedule(config))
  params = _params()
  grads = jax.tree_util.tree_map(lambda x: 1e3 * jnp.ones_like(x), params)
  updates, _ = tx.update(grads, tx.init(params), params)
  np.testing.assert_allclose(optax.global_norm(updates), 1e-2, rtol=1e-5)  # lr x clip norm


def test_update_does_not_recompile():
  config = _config(frozen=('backbone/conv1/.*',))
  tx = optimizer.make_optimizer(config, optimizer.make_lr_schedule(config))
  update = jax.jit(tx.update)
  params = _params()
  state = tx.init(params)
  grads = jax.tree_util.tree_map(jnp.ones_like, params)
  for _ in range(3):
    _, state = update(grads, state, params)
  assert update._cache_size() == 1  # pylint: disable=protected-access


def test_adamw_matches_numpy_reference():
  """Two steps of 'adamw' against Adam written out in float64 (Loshchilov & Hutter)."""
  config = _config(warmup=0, weight_decay=1e-2, grad_clip=0.0)
  config.optimizer.name = 'adamw'
  config.optimizer.b1, config.optimizer.b2 = 0.9, 0.999
  lr = optimizer.make_lr_schedule(config)
  tx = optimizer.make_optimizer(config, lr)
  params = _params()
  state = tx.init(params)
  rng = np.random.default_rng(0)
  grads = [jax.tree_util.tree_map(lambda x: jnp.asarray(rng.normal(size=x.shape), jnp.float32),
                                  params) for _ in range(2)]

  def reference(path_keys, p0):
    p = np.asarray(p0, np.float64)
    m = v = np.zeros_like(p)
    decay = 1e-2 if path_keys[-1] == 'kernel' else 0.0
    for t, g_tree in enumerate(grads, start=1):
      g = np.asarray(g_tree[path_keys[0]][path_keys[1]][path_keys[2]], np.float64)
      m = 0.9 * m + 0.1 * g
      v = 0.999 * v + 0.001 * g * g
      step = (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
      p = p - float(lr(t - 1)) * (step + decay * p)
    return p

  for g in grads:
    updates, state = tx.update(g, state, params)
    params = optax.apply_updates(params, updates)
  for keys in (('backbone', 'conv1', 'kernel'), ('backbone', 'conv1', 'bias'),
               ('backbone', 'conv1_bn', 'scale'), ('fm', 'fc0', 'kernel')):
    got = params[keys[0]][keys[1]][keys[2]]
    np.testing.assert_allclose(got, reference(keys, _params()[keys[0]][keys[1]][keys[2]]),
                               rtol=1e-5, atol=1e-7, err_msg='/'.join(keys))


def test_unknown_optimizer_is_named():
  config = _config()
  config.optimizer.name = 'lamb'
  with pytest.raises(ValueError, match="'lamb'"):
    optimizer.make_optimizer(config, optimizer.make_lr_schedule(config))


def test_lr_mults_scale_updates_first_match_wins():
  """Plain SGD at lr 1e-2: update = -lr * factor * grad, factor of the first matching regex."""
  config = _config(warmup=0, grad_clip=0.0, weight_decay=0.0, frozen=('fm/.*',))
  config.optimizer.momentum = 0.0
  config.optimizer.lr_mults = (('backbone/conv1/.*', 0.1), ('backbone/.*', 0.5))
  tx = optimizer.make_optimizer(config, lambda step: 1e-2)
  params = _params()
  grads = jax.tree_util.tree_map(lambda x: jnp.full_like(x, 2.0), params)
  updates, _ = jax.jit(tx.update)(grads, tx.init(params), params)
  np.testing.assert_allclose(updates['backbone']['conv1']['kernel'], -1e-2 * 0.1 * 2.0, rtol=1e-6)
  np.testing.assert_allclose(updates['backbone']['conv1']['bias'], -1e-2 * 0.1 * 2.0, rtol=1e-6)
  np.testing.assert_allclose(updates['backbone']['conv1_bn']['scale'], -1e-2 * 0.5 * 2.0, rtol=1e-6)
  np.testing.assert_allclose(updates['backbone']['conv2']['kernel'], -1e-2 * 0.5 * 2.0, rtol=1e-6)
  np.testing.assert_array_equal(updates['fm']['fc0']['kernel'], 0.0)  # frozen wins


def test_lr_mults_pattern_matching_nothing_is_refused():
  config = _config()
  config.optimizer.lr_mults = (('backbone/conv9/.*', 0.1),)
  with pytest.raises(ValueError, match=r"optimizer.lr_mults pattern 'backbone/conv9/\.\*' matches"):
    optimizer.check_frozen(config, _params())
