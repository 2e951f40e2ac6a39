"""SGD (or AdamW) with weight decay, clipping, log-space learning rate and frozen layers.

Sec. 4.2: "The standard SGD optimizer is adopted for training. [...] The
learning rate is decreased from 1e-2 to 1e-4." The decay is log-linear (the
lr falls by the same factor every step), after a linear warm-up, as pysot's
SiamRPN recipe (``LR: log``, ``LR_WARMUP``). Weight decay applies to
convolution and dense kernels only (not to biases or BatchNorm scales and
offsets). Parameters whose path matches one of ``config.optimizer.frozen``
(regular expressions over ``/``-joined paths, e.g. ``backbone/conv1/.*``)
get zero updates and no optimizer state. ``config.optimizer.lr_mults``,
``((regex, factor), ...)`` as big_vision's ``lr_mults``, multiplies the
updates of the parameters whose path matches (the first matching pattern
wins; e.g. ``(('backbone/.*', 0.1),)`` trains a pretrained backbone at a
tenth of the learning rate).

``optimizer.name = 'adamw'`` replaces SGD by Adam with decoupled weight decay
(ours, not the paper's: for short runs from scratch on a CPU, where it reaches
a lower loss in the same number of steps; configs/synthetic.py).
"""

import re

import flax
import jax
import optax


def make_lr_schedule(config):
  """The learning-rate schedule of ``config.lr`` over ``total_steps`` steps.

  Linear from ``warmup_init`` to ``base`` over ``warmup_steps``, then
  ``base * (final / base) ** (t / decay_steps)`` so it reaches ``final`` at
  the last step.

  Args:
    config: the full config (uses ``lr`` and ``total_steps``).

  Returns:
    an optax schedule ``step -> lr``.
  """
  lr, total = config.lr, int(config.total_steps)
  warmup = min(int(lr.warmup_steps), max(total - 1, 0))
  decay_steps = max(total - warmup, 1)
  decay = optax.exponential_decay(lr.base, transition_steps=decay_steps,
                                  decay_rate=lr.final / lr.base)
  if warmup == 0:
    return decay
  ramp = optax.linear_schedule(lr.warmup_init, lr.base, warmup)
  return optax.join_schedules([ramp, decay], [warmup])


def param_paths(params):
  """The pytree of ``params`` with every leaf replaced by its ``a/b/c`` path."""
  flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(params), sep='/')
  return flax.traverse_util.unflatten_dict({k: k for k in flat}, sep='/')


def decay_mask(params):
  """True for kernels (convolutions, dense layers), False for biases and norms.

  Maps leaves only, so it also works on the masked trees of
  ``optax.multi_transform``.
  """
  def is_kernel(path, _):
    return bool(path) and getattr(path[-1], 'key', None) == 'kernel'
  return jax.tree_util.tree_map_with_path(is_kernel, params)


def frozen_labels(params, patterns):
  """'frozen' where the path fully matches one of ``patterns``, else 'trainable'."""
  compiled = [re.compile(p) for p in patterns]
  paths = param_paths(params)
  return _map_paths(paths, lambda p: 'frozen' if any(c.fullmatch(p) for c in compiled)
                    else 'trainable')


def _map_paths(paths, fn):
  flat = flax.traverse_util.flatten_dict(paths, sep='/')
  return flax.traverse_util.unflatten_dict({k: fn(v) for k, v in flat.items()}, sep='/')


def lr_mult(path, lr_mults):
  """Factor of the parameter at ``a/b/c`` ``path``: that of the first ``(regex,
  factor)`` of ``lr_mults`` fully matching it, else 1.0."""
  return next((float(f) for p, f in lr_mults if re.fullmatch(p, path)), 1.0)


def scale_by_lr_mults(lr_mults):
  """An optax transformation multiplying each update by its :func:`lr_mult` factor.

  Maps leaves only (with their paths), so it also works on the masked trees of
  ``optax.multi_transform``.
  """
  lr_mults = tuple((p, float(f)) for p, f in lr_mults)

  def update_fn(updates, state, params=None):
    del params

    def scale(path, u):
      f = lr_mult('/'.join(str(getattr(k, 'key', k)) for k in path), lr_mults)
      return u if f == 1.0 else u * f

    return jax.tree_util.tree_map_with_path(scale, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


def make_optimizer(config, lr_fn):
  """The optax transformation of ``config.optimizer``.

  clip by global norm -> weight decay (kernels) -> SGD with momentum at
  ``lr_fn`` (``optimizer.name = 'sgd'``), or clip -> Adam -> decoupled weight
  decay (kernels) at ``lr_fn`` (``'adamw'``, ``optimizer.b1`` / ``b2``);
  parameters matching ``optimizer.frozen`` are routed to ``optax.set_to_zero``
  (no update, no optimizer state).

  Args:
    config: the full config (uses ``optimizer``).
    lr_fn: learning-rate schedule.

  Returns:
    an ``optax.GradientTransformation`` (a function of ``config`` only).
  """
  o = config.optimizer
  name = o.get('name', 'sgd')
  parts = []
  if o.grad_clip and o.grad_clip > 0:
    parts.append(optax.clip_by_global_norm(o.grad_clip))
  if name == 'sgd':
    if o.weight_decay:
      parts.append(optax.add_decayed_weights(o.weight_decay, mask=decay_mask))
    parts.append(optax.sgd(lr_fn, momentum=o.momentum or None, nesterov=bool(o.nesterov)))
  elif name == 'adamw':
    parts.append(optax.adamw(lr_fn, b1=o.get('b1', 0.9), b2=o.get('b2', 0.999),
                             weight_decay=o.weight_decay or 0.0, mask=decay_mask))
  else:
    raise ValueError(f"optimizer.name must be 'sgd' or 'adamw', got {name!r}")
  lr_mults = tuple(o.get('lr_mults') or ())
  if lr_mults:
    parts.append(scale_by_lr_mults(lr_mults))
  tx = optax.chain(*parts)
  patterns = tuple(o.frozen or ())
  if not patterns:
    return tx
  return optax.multi_transform({'trainable': tx, 'frozen': optax.set_to_zero()},
                               lambda params: frozen_labels(params, patterns))


def check_frozen(config, params):
  """Raises if a pattern of ``optimizer.frozen`` or ``optimizer.lr_mults`` matches no
  parameter path."""
  paths = sorted(flax.traverse_util.flatten_dict(param_paths(params), sep='/'))
  named = [('frozen', p) for p in tuple(config.optimizer.frozen or ())]
  named += [('lr_mults', p) for p, _ in tuple(config.optimizer.get('lr_mults') or ())]
  for key, p in named:
    if not any(re.fullmatch(p, path) for path in paths):
      raise ValueError(f'optimizer.{key} pattern {p!r} matches no parameter; paths look like '
                       f'{paths[:3]}')
