"""The training loop: devices, input, state, pmap-ed step, checkpoints, metrics.

``train(config, workdir)`` trains until ``config.total_steps``, resuming from
the latest checkpoint in ``workdir`` when there is one. ``scripts/train.py`` is
its command line. With several hosts (``jax.distributed.initialize()`` called
first), each host reads ``batch_size / process_count`` pairs a step and splits
them over its local devices; ``pmap`` over all devices averages the gradients.
"""

import copy
import json
import logging
import os
import time

import jax
import numpy as np
import tqdm

from spm_jax import cli
from spm_jax.data import prefetch
from spm_jax.train import checkpoint as ckpt_lib
from spm_jax.train import fake_data
from spm_jax.train import metrics as metrics_lib
from spm_jax.train import optimizer as opt_lib
from spm_jax.train import state as state_lib
from spm_jax.train import train_step as step_lib

logger = logging.getLogger(__name__)

LOGGED = ('total', 'cm_cls', 'cm_box', 'fm_cls', 'fm_box', 'lr', 'grad_norm', 'fm_pos', 'fm_neg',
          'fm_pos_from_cm')


def finalize_config(config):
  """A copy of ``config`` with the derived fields filled.

  ``total_steps`` None: ``num_epochs * data.pairs_per_epoch // batch_size``;
  ``lr.warmup_steps`` None: ``lr.warmup_epochs`` epochs; ``train_search_size``
  set (not None): the search crops of training are that size instead of
  ``model.search_size`` (the network is fully convolutional, so a model trained
  on smaller, cheaper crops tracks with the config's own ``model.search_size``).
  """
  for field, least in (('batch_size', 1), ('total_steps', 0), ('log_every', 1),
                       ('checkpoint_every', 1)):
    value = config.get(field)
    if value is not None and (not isinstance(value, int) or value < least):
      raise ValueError(f'config.{field} must be an integer >= {least}, got {value!r}')
  config = copy.deepcopy(config)
  with config.unlocked():
    if config.get('train_search_size') is not None:
      config.model.search_size = int(config.train_search_size)
    steps_per_epoch = config.data.pairs_per_epoch // config.batch_size
    if config.total_steps is None:
      config.total_steps = int(config.num_epochs * steps_per_epoch)
    if config.lr.warmup_steps is None:
      config.lr.warmup_steps = int(config.lr.warmup_epochs * steps_per_epoch)
  return config


# ----------------------------------------------------------------- input ---

def local_batch_size(config):
  """Pairs this host reads a step: global batch / hosts (must split over devices)."""
  hosts, devices = jax.process_count(), jax.local_device_count()
  if config.batch_size % (hosts * devices):
    raise ValueError(f'batch_size {config.batch_size} must be a multiple of hosts x local devices '
                     f'= {hosts} x {devices}')
  return config.batch_size // hosts


def make_data_iterator(config):
  """This host's iterator of batch dicts (``get_state``/``set_state`` for checkpoints)."""
  batch = local_batch_size(config)
  if config.input_kind == 'fake':
    return fake_data.FakePairs(config.model, batch, seed=config.seed,
                               shard=(jax.process_index(), jax.process_count()))
  if config.input_kind != 'pipeline':
    raise ValueError(f"input_kind must be 'pipeline' or 'fake', got {config.input_kind!r}")
  import grain  # pylint: disable=import-outside-toplevel
  from spm_jax.data import pipeline, prepare  # pylint: disable=import-outside-toplevel
  data = copy.deepcopy(config.data)
  with data.unlocked():
    data.batch_size = batch
  if config.get('prepare_data'):
    if jax.process_index() == 0:
      for name in tuple(data.videos) + tuple(data.stills):
        prepare.prepare(name, data.data_dir)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils  # pylint: disable=import-outside-toplevel
      multihost_utils.sync_global_devices('spm_jax: datasets prepared')
  shard = grain.sharding.ShardByJaxProcess() if jax.process_count() > 1 else None
  batches = iter(pipeline.make_loader(data, config.model, seed=config.seed, shard_options=shard))
  if data.get('prefetch', 0):
    batches = prefetch.ThreadPrefetch(batches, size=data.prefetch)
  return batches


# ----------------------------------------------------------------- state ---

def make_state(config, rng):
  """Fresh host :class:`TrainState` and the learning-rate schedule."""
  lr_fn = opt_lib.make_lr_schedule(config)
  state = state_lib.create_train_state(config, rng, opt_lib.make_optimizer(config, lr_fn))
  opt_lib.check_frozen(config, state.params)
  return state, lr_fn


def replicate(tree, axis_name=step_lib.AXIS, devices=None):
  """Copies of ``tree`` on every local device, laid out as ``pmap`` returns them.

  (``flax.jax_utils.replicate`` names its mesh axis differently from the
  ``pmap`` outputs, which makes the second step compile again.)
  """
  devices = list(devices) if devices is not None else jax.local_devices()
  sharding = jax.sharding.NamedSharding(jax.sharding.Mesh(np.asarray(devices), (axis_name,)),
                                        jax.sharding.PartitionSpec(axis_name))
  def put(x):
    x = np.asarray(x)
    return jax.device_put(np.broadcast_to(x[None], (len(devices),) + x.shape), sharding)
  return jax.tree_util.tree_map(put, tree)


def unreplicate(tree):
  """First replica of a pmap-ed pytree (host NumPy arrays)."""
  return jax.device_get(jax.tree_util.tree_map(lambda x: x[0], tree))


# ------------------------------------------------------------------ loop ---

def train(config, workdir, data_iterator=None):
  """Trains (or resumes) and returns the final state's arrays.

  Args:
    config: a training config (``configs/synthetic.py``), command-line
      overrides applied.
    workdir: checkpoints, ``metrics.jsonl``, ``tensorboard/``, ``config.json``.
    data_iterator: batches to use instead of :func:`make_data_iterator`'s.

  Returns:
    dict ``state`` (``TrainState.checkpoint_items()`` of one replica, NumPy)
    and ``metrics`` (the last step's, floats).

  Raises:
    FloatingPointError: a step's loss or gradient is not finite; the update is
      not applied and no checkpoint is written for it.
    KeyboardInterrupt: after Ctrl-C (``spm_jax.cli.defer_interrupts``): the
      step under way is finished and checkpointed first, so that a resumed run
      goes on from it.
  """
  config = finalize_config(config)
  total = int(config.total_steps)
  is_main = jax.process_index() == 0
  os.makedirs(workdir, exist_ok=True)
  if is_main:
    with open(os.path.join(workdir, 'config.json'), 'w', encoding='utf-8') as f:
      f.write(config.to_json_best_effort(indent=2))

  # Devices.
  n_local = jax.local_device_count()
  logger.info('%d hosts, %d local devices (%s), global batch %d, %d steps', jax.process_count(),
              n_local, jax.devices()[0].platform, config.batch_size, total)

  # Input.
  data_it = data_iterator if data_iterator is not None else make_data_iterator(config)

  # Model and optimizer.
  root = jax.random.PRNGKey(config.seed)
  init_rng, step_rng = jax.random.split(root)
  state, lr_fn = make_state(config, init_rng)

  # Checkpoint.
  manager = ckpt_lib.make_manager(workdir, config.keep_checkpoints)
  start, items = ckpt_lib.restore(manager, state.checkpoint_items(), data_it)
  if start is not None:
    state = state.from_checkpoint_items(items)
    logger.info('resumed from step %d in %s', start, workdir)
  start = int(state.step)

  # Update step.
  p_step = step_lib.make_p_train_step(config)
  p_state = replicate(state)
  p_rng = np.broadcast_to(np.asarray(step_rng), (n_local,) + np.shape(step_rng))

  # Loop.
  writer = metrics_lib.MetricWriter(workdir, enabled=is_main, resume_step=start)
  last, sums = {}, {}
  undecodable = 0  # pairs dropped by the input pipeline since this invocation started.
  bar = tqdm.tqdm(total=total, initial=start, desc='train', disable=not is_main, dynamic_ncols=True)
  t0, s0 = time.time(), start
  try:
    for step in range(start, total):
      host_batch = next(data_it)
      if 'undecodable' in host_batch:
        dropped = int(np.sum(host_batch['undecodable']))
        if dropped:
          undecodable += dropped
          logger.warning('step %d: %d pairs dropped (undecodable images), %d so far', step,
                         dropped, undecodable)
      batch = step_lib.shard_batch(host_batch, n_local)
      p_state, p_metrics = p_step(p_state, batch, p_rng)
      m = unreplicate(p_metrics)
      if not bool(m['finite']):
        good = manager.latest_step()
        raise FloatingPointError(
            f'non-finite loss or gradient at step {step} (total loss {float(m["total"])}); the '
            f'update was not applied. Last good checkpoint: '
            f'{"step " + str(good) if good is not None else "none"} in '
            f'{os.path.join(workdir, "checkpoints")}.')
      last = {k: float(m[k]) for k in LOGGED if k in m}
      for k, v in last.items():
        sums[k] = sums.get(k, 0.0) + v
      done = step + 1
      bar.update(1)
      bar.set_postfix(loss=f'{last["total"]:.3f}', lr=f'{last["lr"]:.2e}')
      if done % config.log_every == 0 or done == total:
        # Losses averaged over the steps since the last record; lr at the last step.
        record = {k: v / (done - s0) for k, v in sums.items()}
        record['lr'] = last['lr']
        record['pairs_per_s'] = (done - s0) * config.batch_size / max(time.time() - t0, 1e-9)
        record['undecodable_pairs'] = undecodable
        writer.write_scalars(done, record)
        t0, s0, sums = time.time(), done, {}
      if done % config.checkpoint_every == 0 or done == total or cli.stop_requested():
        ckpt_lib.save(manager, done, unreplicate(p_state.checkpoint_items()), data_it)
      if cli.stop_requested():
        logger.warning('interrupted after step %d: checkpoint written, the run resumes from it',
                       done)
        raise KeyboardInterrupt
  finally:
    bar.close()
    writer.close()
    manager.close()
    if isinstance(data_it, prefetch.ThreadPrefetch):
      data_it.close()
  return {'state': unreplicate(p_state.checkpoint_items()), 'metrics': last}


def load_variables(workdir, step=None):
  """``{'params', 'batch_stats'}`` of a run's checkpoint, for inference.

  Args:
    workdir: the training run's folder (holding ``checkpoints/``).
    step: which checkpoint; None: the latest.

  Returns:
    dict of NumPy pytrees usable as ``model.apply`` variables.
  """
  ckpt_dir = os.path.join(workdir, 'checkpoints')
  if not os.path.isdir(ckpt_dir):
    raise FileNotFoundError(
        f'{workdir} is neither an exported model (no variables.msgpack) nor a '
        f'training run (no {ckpt_dir}/)')
  manager = ckpt_lib.make_manager(workdir)
  step = manager.latest_step() if step is None else step
  if step is None:
    manager.close()
    raise FileNotFoundError(f'no checkpoint in {ckpt_dir}')
  import orbax.checkpoint as ocp  # pylint: disable=import-outside-toplevel
  restored = manager.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore()))
  manager.close()
  s = restored['state']
  return {'params': s['params'], 'batch_stats': s['batch_stats']}


def metrics_records(workdir):
  """The records of ``workdir/metrics.jsonl``."""
  return metrics_lib.read_jsonl(os.path.join(workdir, 'metrics.jsonl'))


def dump_config(config):
  """The config as indented JSON (for logs)."""
  return json.dumps(json.loads(config.to_json_best_effort()), indent=2)
