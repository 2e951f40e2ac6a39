"""The training loop on the tiny config: kill-and-resume, NaN stop, metrics, backbone init,
the command line and the real input pipeline (the loss going down: tests/test_accuracy.py)."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time

import flax
import jax
import numpy as np
import optax
import pytest

from spm_jax import config_file
from spm_jax import models
from spm_jax.train import checkpoint as ckpt_lib
from spm_jax.train import fake_data
from spm_jax.train import metrics as metrics_lib
from spm_jax.train import state as state_lib
from spm_jax.train import trainer

synthetic = config_file.load_module('synthetic')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(arg='runlocal'):
  config = synthetic.get_config(arg)
  config.input_kind = 'fake'
  return config


class Killed(Exception):
  pass


class Interrupting:
  """Wraps a batch iterator: raises :class:`Killed` after ``n`` batches, or makes
  batch ``nan_at`` non-finite. Checkpointing goes to the wrapped iterator."""

  def __init__(self, it, n=None, nan_at=None, value=np.nan):
    self.it, self.n, self.nan_at, self.i, self.value = it, n, nan_at, 0, value

  def __iter__(self):
    return self

  def __next__(self):
    if self.n is not None and self.i == self.n:
      raise Killed()
    batch = next(self.it)
    if self.i == self.nan_at:
      batch['reg_target'][...] = self.value
    self.i += 1
    return batch

  def get_state(self):
    return self.it.get_state()

  def set_state(self, state):
    self.it.set_state(state)

  def start_prefetch(self):
    pass


def _max_diff(a, b):
  return max(jax.tree_util.tree_leaves(
      jax.tree_util.tree_map(lambda x, y: float(np.max(np.abs(np.asarray(x) - np.asarray(y)))),
                             a, b)))


class ReportingDrops(Interrupting):
  """Batches that say the input pipeline dropped ``drops[i]`` pairs before batch i."""

  def __init__(self, it, drops):
    super().__init__(it)
    self.drops = drops

  def __next__(self):
    i = self.i
    batch = super().__next__()
    batch['undecodable'] = np.zeros(len(batch['search']), np.int32)
    batch['undecodable'][0] = self.drops.get(i, 0)
    return batch


DROPS = {2: 1, 5: 3}  # pairs dropped for undecodable images before batches 2 and 5.


@pytest.fixture(scope='module')
def unbroken_run(tmp_path_factory):
  """The tiny config trained without interruption: (workdir, train() result).

  Its batches report pairs dropped by the input pipeline (``DROPS``); the
  batches themselves are the default fake ones.
  """
  whole = str(tmp_path_factory.mktemp('runs') / 'whole')
  config = tiny_config()
  it = fake_data.FakePairs(config.model, config.batch_size, seed=config.seed)
  return whole, trainer.train(config, whole, data_iterator=ReportingDrops(it, DROPS))


def test_killed_run_resumes_to_the_same_parameters(tmp_path, unbroken_run):
  config = tiny_config()  # 8 steps, checkpoint every 2
  broken = str(tmp_path / 'broken')
  it = fake_data.FakePairs(config.model, config.batch_size, seed=config.seed)
  with pytest.raises(Killed):
    trainer.train(config, broken, data_iterator=Interrupting(it, n=4))
  ckpts = os.path.join(broken, 'checkpoints')
  assert sorted(os.listdir(ckpts)) == ['2', '4']
  # What a kill while writing step 6 leaves: orbax's temporary folder, half written
  # (the random-moment kill below also lands there).
  partial = os.path.join(ckpts, '6.orbax-checkpoint-tmp')
  shutil.copytree(os.path.join(ckpts, '4'), partial)
  for path in glob.glob(os.path.join(partial, '**', '*'), recursive=True)[::2]:
    if os.path.isfile(path):
      with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) // 2)
  resumed = trainer.train(config, broken)  # a new run: restores step 4 and the data position
  whole, unbroken = unbroken_run
  assert int(resumed['state']['step']) == int(unbroken['state']['step']) == 8
  assert _max_diff(resumed['state']['params'], unbroken['state']['params']) < 1e-6
  assert _max_diff(resumed['state']['batch_stats'], unbroken['state']['batch_stats']) < 1e-6
  assert _max_diff(resumed['state']['opt_state'], unbroken['state']['opt_state']) < 1e-6
  # Last N checkpoints kept; metrics in JSONL and TensorBoard event files.
  assert sorted(os.listdir(os.path.join(whole, 'checkpoints')), key=int) == ['4', '6', '8']
  records = metrics_lib.read_jsonl(os.path.join(whole, 'metrics.jsonl'))
  assert [r['step'] for r in records] == list(range(1, 9))
  for k in ('total', 'cm_cls', 'cm_box', 'fm_cls', 'fm_box', 'lr', 'pairs_per_s'):
    assert np.isfinite(records[-1][k]), k
  # Running total of the pairs the input pipeline dropped (undecodable images).
  assert [r['undecodable_pairs'] for r in records] == [0, 0, 1, 1, 1, 4, 4, 4]
  assert glob.glob(os.path.join(whole, 'tensorboard', 'events.out.tfevents.*'))
  # The checkpoint loads as inference variables.
  variables = trainer.load_variables(whole)
  assert _max_diff(variables['params'], unbroken['state']['params']) == 0.0


@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_nan_loss_stops_naming_the_step_and_keeps_the_checkpoint(tmp_path, value):
  config = tiny_config()
  workdir = str(tmp_path / 'nan')
  it = fake_data.FakePairs(config.model, config.batch_size, seed=config.seed)
  with pytest.raises(FloatingPointError, match=r'step 5 .*Last good checkpoint: step 4'):
    trainer.train(config, workdir, data_iterator=Interrupting(it, nan_at=5, value=value))
  manager = ckpt_lib.make_manager(workdir)
  assert manager.all_steps() == [2, 4]
  manager.close()


def test_backbone_initialised_from_a_converted_file(tmp_path):
  config = trainer.finalize_config(tiny_config())
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.PRNGKey(0)))
  rng = np.random.default_rng(0)
  backbone = jax.tree_util.tree_map(lambda s: rng.normal(size=s.shape).astype(np.float32),
                                    flax.core.unfreeze(shapes['params']['backbone']))
  path = str(tmp_path / 'alexnet.msgpack')
  with open(path, 'wb') as f:
    f.write(flax.serialization.msgpack_serialize(backbone))
  variables = state_lib.init_backbone(shapes, path)
  got = variables['params']['backbone']
  assert _max_diff(got, backbone) == 0.0
  assert variables['params']['cm'] is shapes['params']['cm']
  # A file for other widths is refused with the offending shapes named.
  backbone['conv1']['kernel'] = np.zeros((11, 11, 3, 7), np.float32)
  with open(path, 'wb') as f:
    f.write(flax.serialization.msgpack_serialize(backbone))
  with pytest.raises(ValueError, match='conv1/kernel'):
    state_lib.init_backbone(shapes, path)


def test_init_from_a_run_starts_fine_tuning_from_its_parameters(unbroken_run):
  workdir, result = unbroken_run
  config = tiny_config()
  config.init_from = workdir
  tx = optax.sgd(0.1)
  state = state_lib.create_train_state(config, jax.random.PRNGKey(1), tx)
  assert int(state.step) == 0
  for key in ('params', 'batch_stats'):
    assert _max_diff(getattr(state, key), result['state'][key]) == 0.0, key
  # Not the random initialisation of that key.
  config.init_from = None
  fresh = state_lib.create_train_state(config, jax.random.PRNGKey(1), tx)
  assert _max_diff(fresh.params, result['state']['params']) > 1e-3
  # Another model's shapes are refused, naming a mismatched parameter.
  wider = tiny_config()
  wider.model.cm.channels *= 2
  wider.init_from = workdir
  with pytest.raises(ValueError, match='cm/'):
    state_lib.create_train_state(wider, jax.random.PRNGKey(1), tx)


def _run_cli(workdir, *overrides):
  cmd = [sys.executable, os.path.join(ROOT, 'scripts', 'train.py'),
         '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
         '--workdir', workdir, '--config.input_kind=fake', *overrides]
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  return subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600,
                        check=False)


@pytest.mark.slow
def test_command_line_resumes_a_run_and_exports_it(tmp_path):
  workdir = str(tmp_path / 'cli')
  config = tiny_config()  # what the command line below builds from the same file, 2 steps
  config.total_steps = 2
  trainer.train(config, workdir)
  r = _run_cli(workdir, '--config.total_steps=3')
  assert r.returncode == 0, r.stderr[-3000:]
  assert 'resumed from step 2' in r.stderr
  records = metrics_lib.read_jsonl(os.path.join(workdir, 'metrics.jsonl'))
  assert [x['step'] for x in records] == [1, 2, 3]

  # scripts/export_model.py turns the run into a model folder with a tracking override.
  out = str(tmp_path / 'model')
  cmd = [sys.executable, os.path.join(ROOT, 'scripts', 'export_model.py'),
         '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
         '--workdir', workdir, '--out', out, '--config.tracking.size_lr=0.25']
  r = subprocess.run(cmd, cwd=str(ROOT), env=dict(os.environ, JAX_PLATFORMS='cpu'),
                     capture_output=True, text=True, timeout=600, check=False)
  assert r.returncode == 0, r.stderr[-3000:]
  from spm_jax import export
  config, variables = export.load_checked(out)
  assert config.tracking.size_lr == 0.25
  latest = trainer.load_variables(workdir)
  assert _max_diff(variables['params'], latest['params']) == 0.0


def _start_cli(workdir, *overrides):
  cmd = [sys.executable, os.path.join(ROOT, 'scripts', 'train.py'),
         '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
         '--workdir', workdir, '--config.input_kind=fake', *overrides]
  # Without the tests' compilation cache (tests/conftest.py): a kill while it writes an entry
  # would leave half a file there for later tests.
  env = dict(os.environ, JAX_PLATFORMS='cpu', JAX_ENABLE_COMPILATION_CACHE='false')
  return subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


def _wait(proc, ready, timeout=300):
  """Polls every 2 ms until ``ready()`` or the process ends; True when ready."""
  deadline = time.time() + timeout
  while proc.poll() is None and time.time() < deadline:
    if ready():
      return True
    time.sleep(0.002)
  return False


def _records(workdir):
  path = os.path.join(workdir, 'metrics.jsonl')
  return metrics_lib.read_jsonl(path) if os.path.exists(path) else []


def _assert_resumes_like_the_unbroken_run(workdir, unbroken_run, what):
  resumed = trainer.train(tiny_config(), workdir)
  _, unbroken = unbroken_run
  assert int(resumed['state']['step']) == 8, what
  for key in ('params', 'batch_stats', 'opt_state'):
    assert _max_diff(resumed['state'][key], unbroken['state'][key]) < 1e-6, (key, what)
  # Every step once: records written after the restored checkpoint were dropped.
  assert [r['step'] for r in _records(workdir)] == list(range(1, 9)), what


@pytest.mark.slow
def test_run_killed_while_writing_a_checkpoint_resumes_to_the_same_parameters(
    tmp_path, unbroken_run):
  """SIGKILL of the command line (checkpoints at steps 3, 6, 8) while it writes step 6's
  checkpoint, after 6 steps and their metrics records: the restart restores step 3, runs
  steps 4 to 8 again and ends with the unbroken run's parameters and one record a step."""
  for attempt in range(3):  # the write lasts ~0.1 s; polling every 2 ms catches it
    workdir = str(tmp_path / f'killed{attempt}')
    ckpts = os.path.join(workdir, 'checkpoints')
    proc = _start_cli(workdir, '--config.checkpoint_every=3')
    try:
      writing = _wait(proc, lambda: os.path.isdir(ckpts) and any(
          f.startswith('6.') and 'tmp' in f for f in os.listdir(ckpts)))
      alive = proc.poll() is None
      proc.send_signal(signal.SIGKILL)
    finally:
      _, err = proc.communicate(timeout=60)
    assert writing and alive, f'the run ended before writing checkpoint 6: {err[-3000:]}'
    left = sorted(os.listdir(ckpts))
    if '6' not in left:
      break
  what = f'attempt {attempt}, left {left}'
  print(what)
  assert '3' in left and '6' not in left and any(f.startswith('6.') for f in left), what
  assert [r['step'] for r in _records(workdir)][-1] >= 6, what
  _assert_resumes_like_the_unbroken_run(workdir, unbroken_run, what)


@pytest.mark.slow
def test_ctrl_c_checkpoints_the_step_and_exits_130(tmp_path, unbroken_run):
  """SIGINT after 2 steps (checkpoints every 4): the step under way finishes, is
  checkpointed, the process exits with code 130 without a traceback, and the restart goes
  on from that step to the unbroken run's parameters, one metrics record a step."""
  workdir = str(tmp_path / 'interrupted')
  proc = _start_cli(workdir, '--config.checkpoint_every=4')
  try:
    assert _wait(proc, lambda: len(_records(workdir)) >= 2), 'the run ended before step 2'
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
  finally:
    if proc.poll() is None:
      proc.kill()
  assert proc.returncode == 130, err[-3000:]
  assert 'Traceback' not in err, err[-3000:]
  steps = [r['step'] for r in _records(workdir)]
  left = sorted(os.listdir(os.path.join(workdir, 'checkpoints')), key=int)
  assert 2 <= steps[-1] < 8 and left[-1] == str(steps[-1]), (steps, left)
  _assert_resumes_like_the_unbroken_run(workdir, unbroken_run, f'stopped at {steps[-1]}')


@pytest.mark.slow
def test_real_pipeline_on_the_synthetic_dataset(tmp_path):
  try:
    from spm_jax.data import pipeline  # pylint: disable=import-outside-toplevel,unused-import
    from spm_jax.data import prepare  # pylint: disable=import-outside-toplevel,unused-import
  except ImportError as e:
    pytest.skip(f'the data pipeline (issue 3) is not importable: {e}')
  config = synthetic.get_config('runlocal')
  config.data.data_dir = str(tmp_path / 'tfds')
  config.total_steps = 4
  workdir = str(tmp_path / 'pipe')
  with pytest.raises(Killed):
    it = trainer.make_data_iterator(trainer.finalize_config(config))
    trainer.train(config, workdir, data_iterator=Interrupting(it, n=2))
  resumed = trainer.train(config, workdir)  # restores the grain iterator's position
  it = trainer.make_data_iterator(trainer.finalize_config(config))
  unbroken = trainer.train(config, str(tmp_path / 'pipe_whole'), data_iterator=it)
  assert _max_diff(resumed['state']['params'], unbroken['state']['params']) < 1e-6
  assert np.isfinite(resumed['metrics']['total'])
