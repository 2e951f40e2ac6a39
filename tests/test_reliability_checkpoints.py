"""Checkpoints that are missing, truncated, corrupt or of another config (docs/reliability.md).

Exported models (``spm_jax.export``) and training checkpoints (orbax, through
``spm_jax.train.checkpoint``); tiny trees, nothing is compiled. The training
loop's own kill-and-resume runs are in ``test_train_run.py``.
"""

import gc
import logging
import os
import shutil

import jax
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import export, models
from spm_jax.train import checkpoint as ckpt_lib

spm_alexnet = config_file.load_module('spm_alexnet')

# A failed orbax read leaves an asyncio callback behind that Python reports,
# harmlessly, when it is collected ("Event loop is closed"); `_restore`
# collects it at once so that it is reported (and ignored) here.
pytestmark = pytest.mark.filterwarnings('ignore::pytest.PytestUnraisableExceptionWarning')

# ------------------------------------------------------------ exported ---

@pytest.fixture(scope='module')
def runlocal_model(tmp_path_factory):
  """An exported ``runlocal`` model (zeros; shapes from eval_shape, no compilation)."""
  config = spm_alexnet.get_config('runlocal')
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  variables = jax.tree.map(lambda s: np.full(s.shape, 0.5, s.dtype), shapes)
  directory = str(tmp_path_factory.mktemp('export') / 'model')
  export.save_model(directory, config, variables)
  return directory, config


def _copy(src, tmp_path):
  dst = str(tmp_path / 'copy')
  shutil.copytree(src, dst)
  return dst


def test_export_round_trip_leaves_no_temporary_files(runlocal_model):
  directory, config = runlocal_model
  assert sorted(os.listdir(directory)) == [export.CONFIG_FILE, export.VARIABLES_FILE]
  loaded_config, variables = export.load_checked(directory)
  assert loaded_config.model.backbone.channels == config.model.backbone.channels
  assert all(np.all(np.asarray(leaf) == 0.5) for leaf in jax.tree.leaves(variables))


@pytest.mark.parametrize('missing', [None, export.CONFIG_FILE, export.VARIABLES_FILE])
def test_missing_model_names_the_file(runlocal_model, tmp_path, missing):
  if missing is None:
    directory = str(tmp_path / 'nowhere')
    expected = os.path.join(directory, export.CONFIG_FILE)
  else:
    directory = _copy(runlocal_model[0], tmp_path)
    expected = os.path.join(directory, missing)
    os.remove(expected)
  with pytest.raises(FileNotFoundError) as exc:
    export.load_checked(directory)
  assert expected in str(exc.value)


@pytest.mark.parametrize('keep', [0.0, 0.01, 0.5, 0.999])
def test_truncated_variables_name_the_file(runlocal_model, tmp_path, keep):
  directory = _copy(runlocal_model[0], tmp_path)
  path = os.path.join(directory, export.VARIABLES_FILE)
  size = os.path.getsize(path)
  with open(path, 'r+b') as f:
    f.truncate(int(size * keep))
  with pytest.raises(ValueError) as exc:
    export.load_checked(directory)
  assert path in str(exc.value) or directory in str(exc.value)
  assert 'truncated or corrupt' in str(exc.value) or 'does not match' in str(exc.value)


def test_corrupt_files_name_the_file(runlocal_model, tmp_path):
  directory = _copy(runlocal_model[0], tmp_path)
  variables = os.path.join(directory, export.VARIABLES_FILE)
  rng = np.random.default_rng(0)
  with open(variables, 'wb') as f:
    f.write(b'\xc1' + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())  # 0xc1: never used
  with pytest.raises(ValueError, match='truncated or corrupt') as exc:
    export.load_checked(directory)
  assert variables in str(exc.value)
  config = os.path.join(directory, export.CONFIG_FILE)
  with open(config, 'w') as f:
    f.write('{"model": {"template_size": 12')  # cut in the middle
  with pytest.raises(ValueError, match='not a valid config file') as exc:
    export.load_checked(directory)
  assert config in str(exc.value)


def test_model_of_another_config_names_the_shapes(runlocal_model):
  directory, _ = runlocal_model
  full = spm_alexnet.get_config()
  with pytest.raises(ValueError) as exc:
    export.load_checked(directory, full)
  msg = str(exc.value)
  assert directory in msg and 'does not match the config' in msg
  assert 'params/backbone/conv1/kernel: checkpoint (11, 11, 3, 24), config (11, 11, 3, 96)' in msg


# ------------------------------------------------------------ training ---

def _state(scale=1.0, rows=3):
  return {'step': np.int32(0), 'params': {'w': np.full((rows, 4), scale, np.float32),
                                          'b': np.zeros((4,), np.float32)}}


@pytest.fixture
def run_with_two_checkpoints(tmp_path):
  """A workdir with checkpoints 2 and 4 of a small state (w = 2 and 4)."""
  workdir = str(tmp_path / 'run')
  manager = ckpt_lib.make_manager(workdir)
  for step in (2, 4):
    state = _state(float(step))
    state['step'] = np.int32(step)
    ckpt_lib.save(manager, step, state)
  manager.close()
  return workdir


def _restore(workdir, template=None):
  manager = ckpt_lib.make_manager(workdir)
  try:
    return ckpt_lib.restore(manager, template or _state(0.0))
  finally:
    manager.close()
    gc.collect()


def _files(directory):
  return sorted(os.path.join(d, f) for d, _, fs in os.walk(directory) for f in fs)


def test_no_checkpoint_means_a_fresh_start(tmp_path):
  assert _restore(str(tmp_path / 'empty')) == (None, None)


def test_leftover_of_a_killed_write_is_ignored(run_with_two_checkpoints):
  """orbax writes ``<step>.orbax-checkpoint-tmp[-*]`` and renames it when complete."""
  ckpts = os.path.join(run_with_two_checkpoints, 'checkpoints')
  partial = os.path.join(ckpts, '6.orbax-checkpoint-tmp')
  shutil.copytree(os.path.join(ckpts, '4'), partial)
  for path in _files(partial)[::2]:  # half the files cut short
    with open(path, 'r+b') as f:
      f.truncate(os.path.getsize(path) // 3)
  step, items = _restore(run_with_two_checkpoints)
  assert step == 4 and int(items['step']) == 4
  np.testing.assert_array_equal(items['params']['w'], np.full((3, 4), 4.0))


@pytest.mark.parametrize('damage', ['truncate', 'garbage', 'delete'])
def test_unreadable_latest_falls_back_to_the_previous(run_with_two_checkpoints, caplog, damage):
  ckpts = os.path.join(run_with_two_checkpoints, 'checkpoints')
  manifest = os.path.join(ckpts, '4', 'state', 'manifest.ocdbt')
  assert os.path.isfile(manifest)
  if damage == 'truncate':
    with open(manifest, 'r+b') as f:
      f.truncate(os.path.getsize(manifest) // 2)
  elif damage == 'garbage':
    with open(manifest, 'wb') as f:
      f.write(b'not a manifest')
  else:
    os.remove(manifest)
  with caplog.at_level(logging.WARNING):
    step, items = _restore(run_with_two_checkpoints)
  assert step == 2 and int(items['step']) == 2
  np.testing.assert_array_equal(items['params']['w'], np.full((3, 4), 2.0))
  assert any(os.path.join(ckpts, '4') in r.getMessage() for r in caplog.records)
  # The unreadable step is set aside (not deleted), so training can write step 4 again.
  aside = os.path.join(run_with_two_checkpoints, 'unreadable_checkpoints', '4')
  assert os.path.isdir(aside) and sorted(os.listdir(ckpts)) == ['2']
  manager = ckpt_lib.make_manager(run_with_two_checkpoints)
  ckpt_lib.save(manager, 4, _state(5.0))
  assert manager.all_steps() == [2, 4]
  manager.close()


def test_no_readable_checkpoint_names_every_folder(run_with_two_checkpoints):
  ckpts = os.path.join(run_with_two_checkpoints, 'checkpoints')
  for step in ('2', '4'):
    with open(os.path.join(ckpts, step, 'state', 'manifest.ocdbt'), 'wb') as f:
      f.write(b'x')
  with pytest.raises(ckpt_lib.CheckpointReadError) as exc:
    _restore(run_with_two_checkpoints)
  msg = str(exc.value)
  assert os.path.join(ckpts, '2') in msg and os.path.join(ckpts, '4') in msg
  assert sorted(os.listdir(ckpts)) == ['2', '4']  # nothing moved when nothing could be read


def test_checkpoint_of_another_config_names_the_shapes(run_with_two_checkpoints):
  ckpts = os.path.join(run_with_two_checkpoints, 'checkpoints')
  with pytest.raises(ckpt_lib.CheckpointMismatchError) as exc:
    _restore(run_with_two_checkpoints, _state(0.0, rows=5))
  msg = str(exc.value)
  assert os.path.join(ckpts, '4') in msg
  assert 'params.w: checkpoint (3, 4), config (5, 4)' in msg
  other = _state(0.0)
  other['params']['v'] = other['params'].pop('w')
  with pytest.raises(ckpt_lib.CheckpointMismatchError) as exc:
    _restore(run_with_two_checkpoints, other)
  msg = str(exc.value)
  assert 'params.v: missing from the checkpoint (config expects (3, 4))' in msg
  assert 'params.w: not in the state of this config (checkpoint has (3, 4))' in msg
  assert sorted(os.listdir(ckpts)) == ['2', '4']  # a mismatch is no reason to set anything aside
