"""The per-device train step and its ``pmap``.

``train_step(state, batch, rng)`` is written for one device: it runs the
template and search branches, the CM stage, draws the FM training samples from
the CM outputs (:mod:`spm_jax.train.proposals`), runs the FM stage, computes
eq. (1) (:mod:`spm_jax.train.losses`), averages gradients and metrics with
``lax.pmean(..., 'batch')`` and applies the optimizer. BatchNorm statistics are
averaged over the same axis (the model is built with ``bn_axis_name='batch'``).

Randomness: ``rng`` is the run's root key; the step uses
``fold_in(rng, state.step)`` and each pair ``fold_in(step_key, global pair
index)`` with the global index ``axis_index('batch') * local_batch + i``, so a
resumed run draws the same samples, and so does any split of the same global
batch over devices.

A non-finite loss or gradient leaves the state unchanged (the update is
skipped on every device alike) and is reported by ``metrics['finite']``; the
training loop stops on it.

Batch (per device, B pairs; S score size, A anchors; see
:mod:`spm_jax.data.pipeline`):

* ``template`` [B, 127, 127, 3] and ``search`` [B, Sx, Sx, 3] RGB 0..255
  (uint8 or float);
* ``template_box`` [B, 4] x1, y1, x2, y2 template-crop pixels;
* ``target_box`` [B, 4] x1, y1, x2, y2 search-crop pixels of the template's
  own instance, ``has_target`` [B] bool;
* ``cls_label`` [B, S, S, A] int in {1, 0, -1}; ``reg_target``
  [B, S, S, A, 4]; ``reg_weight`` [B, S, S, A];
* other keys (``category_boxes``, ``category_mask``, ``pair_type``) are
  carried but unused by the losses.
"""

import functools
import json

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from spm_jax import models
from spm_jax.train import losses as loss_lib
from spm_jax.train import optimizer
from spm_jax.train import proposals as proposal_lib

AXIS = 'batch'
BATCH_KEYS = ('template', 'search', 'template_box', 'target_box', 'has_target', 'cls_label',
              'reg_target', 'reg_weight')


def model_anchors(model_config):
  """[N, 4] cx, cy, w, h search-crop anchors of the CM score map (NumPy)."""
  return models.model_anchors(model_config).reshape(-1, 4)


def uses_fm(config):
  """Whether the FM stage is trained (not for ``variant=cm_only``)."""
  return config.model.variant != 'cm_only'


def forward(module, batch, keys, *, config, anchors):
  """Both stages on a batch of pairs, in training mode (used as an ``apply`` method).

  Args:
    module: the bound :class:`spm_jax.models.SPM`.
    batch: the batch dict (module docstring).
    keys: [B] PRNG keys, one per pair.
    config: full config.
    anchors: [N, 4] cx, cy, w, h.

  Returns:
    dict ``cm_logits`` [B, S, S, A, 2], ``cm_deltas`` [B, S, S, A, 4] and,
    unless ``cm_only``, ``fm_logits`` [B, n, 2], ``fm_deltas`` [B, n, 4] and
    ``fm_samples`` (:func:`spm_jax.train.proposals.sample_batch`).
  """
  template = module.template(batch['template'], batch['template_box'], train=True)
  feats, cm_logits, cm_deltas = module.search(batch['search'], template, train=True)
  out = {'cm_logits': cm_logits, 'cm_deltas': cm_deltas}
  if not uses_fm(config):
    return out
  samples = proposal_lib.sample_batch(
      keys, cm_logits, cm_deltas, batch['target_box'], batch['has_target'],
      anchors=anchors, crop_size=config.model.search_size,
      delta_weights=tuple(config.model.fm.delta_weights), config=config.fm_train)
  fm_logits, fm_deltas = module.refine(feats, samples['boxes'], template, train=True)
  out.update(fm_logits=fm_logits, fm_deltas=fm_deltas, fm_samples=samples)
  return out


def compute_losses(outputs, batch, config, axis_name=None):
  """The four losses of eq. (1) and the weighted total.

  Returns:
    dict ``cm_cls``, ``cm_box``, ``fm_cls``, ``fm_box`` (FM ones only when
    trained) and ``total``, per-device values whose ``pmean`` is global.
  """
  beta = config.loss.smooth_l1_beta
  cm_beta = config.loss.get('cm_smooth_l1_beta')
  out = loss_lib.cm_losses(outputs['cm_logits'], outputs['cm_deltas'], batch['cls_label'],
                           batch['reg_target'], batch['reg_weight'],
                           beta=beta if cm_beta is None else cm_beta,
                           axis_name=axis_name)
  if 'fm_logits' in outputs:
    s = outputs['fm_samples']
    out.update(loss_lib.fm_losses(outputs['fm_logits'], outputs['fm_deltas'], s['labels'],
                                  s['reg_target'], s['mask'], beta=beta, axis_name=axis_name))
  out['total'] = loss_lib.total_loss(out, tuple(config.loss.weights))
  return out


def pair_keys(rng, step, local_batch, axis_name=AXIS):
  """[B] per-pair keys ``fold_in(fold_in(rng, step), global pair index)``."""
  step_key = jax.random.fold_in(rng, step)
  first = jax.lax.axis_index(axis_name) * local_batch if axis_name else 0
  return jax.vmap(lambda i: jax.random.fold_in(step_key, i))(first + jnp.arange(local_batch))


def _all_finite(tree):
  leaves = jax.tree_util.tree_leaves(tree)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def train_step(state, batch, rng, *, model, tx, config, lr_fn, anchors, axis_name=AXIS):
  """One SGD step on this device's share of the global batch.

  Args:
    state: :class:`spm_jax.train.state.TrainState` (replicated).
    batch: this device's batch dict.
    rng: the run's root PRNG key (raw uint32 [2]).
    model: the SPM module built with ``bn_axis_name=axis_name``.
    tx: the optax transformation.
    config: full config.
    lr_fn: learning-rate schedule (for the metrics).
    anchors: [N, 4] cx, cy, w, h.
    axis_name: pmap axis.

  Returns:
    new state, metrics dict of scalars (identical on all devices).
  """
  b = batch['search'].shape[0]
  keys = pair_keys(rng, state.step, b, axis_name)

  # Frozen parameters (``optimizer.frozen``) get no gradient at all: besides
  # their zero update, no backward pass runs through a frozen backbone.
  labels = optimizer.frozen_labels(state.params, tuple(config.optimizer.get('frozen') or ()))

  def loss_fn(params):
    params = jax.tree_util.tree_map(
        lambda p, label: jax.lax.stop_gradient(p) if label == 'frozen' else p, params, labels)
    variables = {'params': params, 'batch_stats': state.batch_stats}
    outputs, mutated = model.apply(
        variables, batch, keys, mutable=['batch_stats'],
        method=functools.partial(forward, config=config, anchors=anchors))
    parts = compute_losses(outputs, batch, config, axis_name)
    aux = {'parts': parts, 'batch_stats': mutated['batch_stats']}
    if 'fm_samples' in outputs:
      s = outputs['fm_samples']
      aux['fm_pos'] = jnp.sum(s['mask'] & (s['labels'] == 1)) / b
      aux['fm_neg'] = jnp.sum(s['mask'] & (s['labels'] == 0)) / b
      aux['fm_pos_from_cm'] = jnp.sum(s['from_cm'] & (s['labels'] == 1)) / b
    return parts['total'], aux

  grads, aux = jax.grad(loss_fn, has_aux=True)(state.params)
  grads = jax.lax.pmean(grads, axis_name)
  metrics = dict(aux['parts'])
  for k in ('fm_pos', 'fm_neg', 'fm_pos_from_cm'):
    if k in aux:
      metrics[k] = aux[k]
  metrics = jax.lax.pmean(metrics, axis_name)
  metrics['grad_norm'] = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree_util.tree_leaves(grads)))
  metrics['lr'] = jnp.asarray(lr_fn(state.step), jnp.float32)
  finite = jnp.isfinite(metrics['total']) & _all_finite(grads)
  metrics['finite'] = finite

  new_state = state.apply_gradients(tx, grads, aux['batch_stats'])
  new_state = jax.tree_util.tree_map(lambda n, o: jnp.where(finite, n, o), new_state, state)
  return new_state, metrics


_P_STEPS = {}
STEP_KEYS = ('model', 'loss', 'fm_train', 'lr', 'optimizer', 'total_steps')


def make_p_train_step(config, axis_name=AXIS, devices=None):
  """``train_step`` with model, config and schedule bound, ``pmap``-ed over local devices.

  The state (argument 0) is donated. Call it with the replicated state, the
  batch reshaped to [local devices, B / devices, ...] and the replicated root
  key [local devices, 2]. Everything bound is a function of ``config``, so
  the pmap-ed function is memoised on it: a second run in the same process
  (tests, a restart after an error) does not compile again. ``devices``:
  which local devices (default all).
  """
  devices = tuple(devices) if devices is not None else None
  bound = {k: config[k] for k in STEP_KEYS}  # all the step reads from the config
  key = (json.dumps(json.loads(ml_collections.ConfigDict(bound).to_json_best_effort()),
                    sort_keys=True), axis_name, devices)
  if key not in _P_STEPS:
    _P_STEPS[key] = _build_p_train_step(config, axis_name, devices)
  return _P_STEPS[key]


def _build_p_train_step(config, axis_name, devices):
  lr_fn = optimizer.make_lr_schedule(config)
  model = models.build_model(config, bn_axis_name=axis_name)
  anchors = jnp.asarray(model_anchors(config.model))
  tx = optimizer.make_optimizer(config, lr_fn)
  step = functools.partial(train_step, model=model, tx=tx, config=config, lr_fn=lr_fn,
                           anchors=anchors, axis_name=axis_name)
  return jax.pmap(step, axis_name=axis_name, donate_argnums=(0,), devices=devices)


def shard_batch(batch, num_devices):
  """Host batch dict [B, ...] -> [num_devices, B / num_devices, ...] (only ``BATCH_KEYS``)."""
  out = {}
  for k in BATCH_KEYS:
    v = np.asarray(batch[k])
    if v.shape[0] % num_devices:
      raise ValueError(f'batch of {v.shape[0]} pairs does not split over {num_devices} devices')
    out[k] = v.reshape((num_devices, v.shape[0] // num_devices) + v.shape[1:])
  return out
