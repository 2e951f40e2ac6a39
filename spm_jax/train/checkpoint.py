"""Checkpoints of a training run with orbax's ``CheckpointManager``.

``WORKDIR/checkpoints/<step>/`` holds two items: ``state`` (step, params,
batch_stats, opt_state as host arrays, orbax ``StandardSave``) and ``data``
(the input iterator's position, grain's checkpoint handler: one JSON file per
host). orbax writes each checkpoint into a temporary folder and renames it when
complete, so a run killed while saving leaves the previous checkpoints intact;
the last ``keep`` are kept.
"""

import os

import grain.python as grain_py
import jax
import numpy as np
import orbax.checkpoint as ocp


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
  """Restores the latest (or ``step``'s) checkpoint.

  Args:
    manager: from :func:`make_manager`.
    state_items: a template of ``TrainState.checkpoint_items()`` (shapes and
      dtypes).
    data_iterator: restored in place when given and saved.
    step: which checkpoint; None: the latest.

  Returns:
    ``(step, items)`` with host arrays, or ``(None, None)`` without checkpoints.
  """
  step = manager.latest_step() if step is None else step
  if step is None:
    return None, None
  target = jax.tree_util.tree_map(np.asarray, jax.device_get(state_items))  # restore as NumPy
  items = {'state': ocp.args.StandardRestore(target)}
  if data_iterator is not None and 'data' in _saved_items(manager, step):
    items['data'] = grain_py.PyGrainCheckpointRestore(data_iterator)
  restored = manager.restore(step, args=ocp.args.Composite(**items))
  return step, jax.device_get(restored['state'])


def _saved_items(manager, step):
  path = os.path.join(str(manager.directory), str(step))
  return set(os.listdir(path)) if os.path.isdir(path) else set()
