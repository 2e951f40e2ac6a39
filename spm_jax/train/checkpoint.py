"""Checkpoints of a training run with orbax's ``CheckpointManager``.

``WORKDIR/checkpoints/<step>/`` holds two items: ``state`` (step, params,
batch_stats, opt_state as host arrays, orbax ``StandardSave``) and ``data``
(the input iterator's position, grain's checkpoint handler: one JSON file per
host). orbax writes each checkpoint into a temporary folder and renames it when
complete, so a run killed while saving leaves the previous checkpoints intact;
the last ``keep`` are kept. :func:`restore` skips (and sets aside) a checkpoint
that cannot be read and refuses one of another config, naming the arrays.
"""

import logging
import os
import shutil
import time

import grain.python as grain_py
import jax
import numpy as np
import orbax.checkpoint as ocp

from spm_jax import export

logger = logging.getLogger(__name__)


def make_manager(workdir, keep=3):
  """The run's :class:`orbax.checkpoint.CheckpointManager` under ``workdir/checkpoints``."""
  options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True,
                                         enable_async_checkpointing=False)
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(workdir, 'checkpoints')), options=options,
      item_handlers={'state': ocp.StandardCheckpointHandler(),
                     'data': grain_py.PyGrainCheckpointHandler()})


def save(manager, step, state_items, data_iterator=None):
  """Saves host copies of ``state_items`` (and the iterator position) at ``step``.

  Args:
    manager: from :func:`make_manager`.
    step: the number of updates applied (the checkpoint's name).
    state_items: ``TrainState.checkpoint_items()`` of one replica.
    data_iterator: an iterator with ``get_state() -> bytes`` or None.
  """
  items = {'state': ocp.args.StandardSave(jax.device_get(state_items))}
  if data_iterator is not None:
    items['data'] = grain_py.PyGrainCheckpointSave(data_iterator)
  manager.save(int(step), args=ocp.args.Composite(**items), force=True)
  manager.wait_until_finished()


def restore(manager, state_items, data_iterator=None, step=None):
  """Restores the latest readable (or ``step``'s) checkpoint.

  A run killed while saving leaves only orbax's temporary folder
  (``<step>.orbax-checkpoint-tmp-*``), which the manager ignores. A finished
  checkpoint that cannot be read (truncated or corrupt files) is skipped with
  a logged warning naming it, and the previous one is restored; the skipped
  ones are moved to ``WORKDIR/unreadable_checkpoints/`` so that training can
  write those steps again.

  Args:
    manager: from :func:`make_manager`.
    state_items: a template of ``TrainState.checkpoint_items()`` (shapes and
      dtypes).
    data_iterator: restored in place when given and saved.
    step: which checkpoint; None: the latest readable one.

  Returns:
    ``(step, items)`` with host arrays, or ``(None, None)`` without checkpoints.

  Raises:
    CheckpointMismatchError: the checkpoint holds other variables or shapes
      than ``state_items`` (another config); the message names the folder and
      every mismatched path with both shapes.
    CheckpointReadError: no checkpoint could be read; the message names each
      folder and its error.
  """
  steps = sorted(manager.all_steps(), reverse=True) if step is None else [step]
  if not steps:
    return None, None
  target = jax.tree_util.tree_map(np.asarray, jax.device_get(state_items))  # restore as NumPy
  failed = []
  for s in steps:
    path = step_dir(manager, s)
    saved = _saved_shapes(manager, s)
    if saved is not None:
      _check_shapes(saved, _shapes(target), path)
    items = {'state': ocp.args.StandardRestore(target)}
    if data_iterator is not None and 'data' in _saved_items(manager, s):
      items['data'] = grain_py.PyGrainCheckpointRestore(data_iterator)
    try:
      restored = manager.restore(s, args=ocp.args.Composite(**items))
    except Exception as e:  # pylint: disable=broad-except  # orbax/tensorstore raise many types
      logger.warning('checkpoint %s cannot be read (%s: %s); trying the previous one', path,
                     type(e).__name__, _first_line(e))
      failed.append((s, e))
      continue
    state = jax.device_get(restored['state'])
    _check_shapes(_shapes(state), _shapes(target), path)
    if failed and step is None:
      _set_aside(manager, [f for f, _ in failed])
    return s, state
  raise CheckpointReadError(
      f'no readable checkpoint in {manager.directory}:\n  ' + '\n  '.join(
          f'{step_dir(manager, s)}: {type(e).__name__}: {_first_line(e)}' for s, e in failed))


class CheckpointMismatchError(ValueError):
  """A checkpoint's variables do not fit the state of the current config."""


class CheckpointReadError(ValueError):
  """No checkpoint of a run could be read (all truncated or corrupt)."""


def step_dir(manager, step):
  """The folder of ``step``'s checkpoint."""
  return os.path.join(str(manager.directory), str(step))


def _first_line(error):
  text = str(error).strip()
  return text.splitlines()[0][:500] if text else repr(error)


def _name(path):
  """A pytree key path as orbax names the array: ``params.cm.conv.kernel``."""
  return '.'.join(str(getattr(k, 'key', getattr(k, 'name', getattr(k, 'idx', k)))) for k in path)


def _shapes(tree):
  """``{name: shape}`` of a pytree of arrays (or orbax array metadata)."""
  leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
  return {_name(p): tuple(np.shape(leaf) if not hasattr(leaf, 'shape') else leaf.shape)
          for p, leaf in leaves}


def _saved_shapes(manager, step):
  """``{name: shape}`` from the checkpoint's metadata, or None when unreadable."""
  try:
    metadata = manager.item_metadata(step)['state']
  except Exception:  # pylint: disable=broad-except  # judged by the restore that follows
    return None
  if metadata is None:
    return None
  return _shapes(getattr(metadata, 'tree', metadata))


def _check_shapes(saved, expected, path):
  """Raises :class:`CheckpointMismatchError` listing every difference."""
  lines = export.shape_mismatches(saved, expected, scope='state')
  if lines:
    shown = export.shown_lines(lines)
    raise CheckpointMismatchError(
        f'checkpoint {path} does not match the config ({len(lines)} mismatched arrays; was the '
        'run started with another config?):\n  ' + '\n  '.join(shown))


def _set_aside(manager, steps):
  """Moves unreadable checkpoints to ``WORKDIR/unreadable_checkpoints/<step>``."""
  aside = os.path.join(os.path.dirname(str(manager.directory)), 'unreadable_checkpoints')
  os.makedirs(aside, exist_ok=True)
  for s in steps:
    target = os.path.join(aside, str(s))
    if os.path.exists(target):
      target += f'.{int(time.time())}'
    shutil.move(step_dir(manager, s), target)
    logger.warning('moved the unreadable checkpoint of step %d to %s', s, target)
  manager.reload()


def _saved_items(manager, step):
  path = os.path.join(str(manager.directory), str(step))
  return set(os.listdir(path)) if os.path.isdir(path) else set()
