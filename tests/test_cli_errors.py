"""Bad command-line input: one line ``error: ...`` naming the argument, exit code 2, no traceback
(``--verbose`` adds it), and a failed run never replaces an earlier run's outputs."""

import importlib.util
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from spm_jax import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, 'scripts')


def _script(name):
  spec = importlib.util.spec_from_file_location(f'{name}_script', os.path.join(SCRIPTS, f'{name}.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _error(capsys, main, argv):
  """Runs ``main(argv)`` in-process; returns the error line (exit code 2, one line)."""
  with pytest.raises(SystemExit) as exc:
    main(argv)
  assert exc.value.code == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and err[0].startswith('error: '), err
  return err[0]


def _run(args, timeout=300):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                        timeout=timeout, env=env, check=False)


def _assert_one_line(proc, *needles):
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert 'Traceback' not in proc.stderr, proc.stderr[-2000:]
  errors = [line for line in proc.stderr.splitlines() if line.startswith('error: ')]
  assert len(errors) == 1, proc.stderr[-2000:]
  for needle in needles:
    assert needle in errors[0], errors[0]
  return errors[0]


@pytest.fixture(scope='module')
def video(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('video') / 'clip.mp4')
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10.0, (64, 48))
  for i in range(3):
    writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
  writer.release()
  return path


# ------------------------------------------------------------- track.py ---
def test_failed_rerun_keeps_the_previous_outputs(video, tmp_path, capsys):
  """A typo in --checkpoint or --config: the earlier clip.mp4 / clip.txt stay as they were."""
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'clip.mp4').write_bytes(b'earlier video')
  (out / 'clip.txt').write_text('1,2,3,4\n')
  main = _script('track').main
  base = ['--video', video, '--box', '10,10,20,20', '--out', str(out)]
  assert 'nope' in _error(capsys, main, base + ['--checkpoint', str(tmp_path / 'nope')])
  assert 'nope.py' in _error(capsys, main, base + ['--config', str(tmp_path / 'nope.py')])
  assert _error(capsys, main, base + ['--codec', 'ZZZZ']).count('ZZZZ')
  assert (out / 'clip.mp4').read_bytes() == b'earlier video'
  assert (out / 'clip.txt').read_text() == '1,2,3,4\n'
  assert sorted(os.listdir(out)) == ['clip.mp4', 'clip.txt']  # no partial file left


def test_first_failed_run_leaves_no_video(video, tmp_path, capsys):
  out = tmp_path / 'first'
  _error(capsys, _script('track').main, ['--video', video, '--box', '10,10,20,20', '--out',
                                         str(out), '--checkpoint', str(tmp_path / 'nope')])
  assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize('args, needles', [
    (['--fps', '-5'], ['--fps', '-5']),
    (['--fps', 'nan'], ['--fps']),
    (['--max_frames', '0'], ['--max_frames']),
    (['--log_every', '-1'], ['--log_every']),
    (['--box', '1,2,3'], ['--box', '4 numbers']),
    (['--name', 'a/b'], ['--name']),
])
def test_track_bad_values_name_the_argument(video, tmp_path, capsys, args, needles):
  argv = ['--video', video, '--box', '10,10,20,20', '--out', str(tmp_path / 'o')]
  err = _error(capsys, _script('track').main, argv + args)
  for needle in needles:
    assert needle in err


def test_track_flag_mistakes_are_one_line(video, tmp_path, capsys):
  """absl's own errors (bad value, unknown or old hyphenated flag, two sources, a stray
  argument, an unknown config field) are one line with exit 2, like the script's."""
  main = _script('track').main
  base = ['--video', video, '--box', '10,10,20,20', '--out', str(tmp_path / 'o')]
  assert '--fps=abc' in _error(capsys, main, base + ['--fps', 'abc'])
  assert 'max-frames' in _error(capsys, main, base + ['--max-frames', '2'])
  assert 'Exactly one of' in _error(capsys, main, base + ['--frames', str(tmp_path)])
  assert "unexpected arguments: ['extra']" in _error(capsys, main, base + ['extra'])
  config = os.path.join(ROOT, 'configs', 'spm_alexnet.py') + ':runlocal'
  err = _error(capsys, main, base + ['--config', config, '--config.modl=3'])
  assert '--config.modl' in err and 'did you mean "model"' in err


def test_flags_of_an_earlier_run_in_the_process_are_forgotten(video, tmp_path, capsys):
  """A second in-process run gets the defaults of the flags it does not give."""
  main = _script('track').main
  base = ['--video', video, '--box', '10,10,20,20', '--out', str(tmp_path / 'o')]
  assert '--max_frames' in _error(capsys, main, base + ['--max_frames', '0'])
  assert '--name' in _error(capsys, main, base + ['--name', 'a/b'])


def test_track_source_and_out_mistakes(video, tmp_path, capsys):
  main = _script('track').main
  err = _error(capsys, main, ['--video', str(tmp_path), '--box', '1,2,3,4'])
  assert '--video' in err and 'is a folder' in err and '--frames' in err
  err = _error(capsys, main, ['--frames', video, '--box', '1,2,3,4'])
  assert '--frames' in err and '--video' in err
  blocker = tmp_path / 'afile'
  blocker.write_text('')
  err = _error(capsys, main, ['--video', video, '--box', '1,2,3,4', '--out', str(blocker / 'sub')])
  assert '--out' in err and 'sub' in err
  err = _error(capsys, main, ['--video', video, '--box', '1,2,3,4', '--out', str(blocker)])
  assert '--out' in err and 'is a file' in err


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0,
                    reason='root writes into read-only folders')
def test_read_only_out_folder(video, tmp_path, capsys):
  ro = tmp_path / 'ro'
  ro.mkdir()
  ro.chmod(0o555)
  try:
    for out in (ro, ro / 'sub'):
      err = _error(capsys, _script('track').main,
                   ['--video', video, '--box', '1,2,3,4', '--out', str(out)])
      assert '--out' in err and 'not writable' in err
  finally:
    ro.chmod(0o755)


# ------------------------------------------------------- the other scripts ---
def test_demo_bad_seed_and_out(tmp_path, capsys):
  from spm_jax import demo
  assert '--seed' in _error(capsys, demo.main, ['--seed', '-1', '--out', str(tmp_path)])
  assert '--frames' in _error(capsys, demo.main, ['--frames', '1', '--out', str(tmp_path)])
  blocker = tmp_path / 'afile'
  blocker.write_text('')
  assert '--out' in _error(capsys, demo.main, ['--out', str(blocker / 'sub')])


def test_convert_weights_bad_npz_names_the_file(tmp_path, capsys):
  main = _script('convert_weights').main
  good = tmp_path / 'good.npz'
  np.savez(good, w=np.zeros(3, np.float32))
  for name, data in (('garbage.npz', b'PK\x03\x04 not a zip'), ('empty.npz', b''),
                     ('text.npz', b'hello')):
    bad = tmp_path / name
    bad.write_bytes(data)
    err = _error(capsys, main, ['release', '--cm', str(bad), '--fm', str(good),
                                '--out', str(tmp_path / 'm')])
    assert str(bad) in err
  pickled = tmp_path / 'pickled.npz'
  np.savez(pickled, w=np.array([{'a': 1}], dtype=object))
  err = _error(capsys, main, ['release', '--cm', str(pickled), '--fm', str(good),
                              '--out', str(tmp_path / 'm')])
  assert str(pickled) in err
  assert str(tmp_path / 'nope.npz') in _error(
      capsys, main, ['release', '--cm', str(tmp_path / 'nope.npz'), '--fm', str(good),
                     '--out', str(tmp_path / 'm')])


def test_config_field_error_keeps_the_suggestion():
  exc = AttributeError('\'total_step\'\nDid you mean "total_steps" instead of "total_step"?')
  err = cli.config_field_error(exc, ['--workdir', 'w', '--config.total_step=3'])
  assert str(err) == ('--config.total_step: the config has no field \'total_step\' '
                      '(did you mean "total_steps"?)')
  exc = AttributeError("'nope'")
  err = cli.config_field_error(exc, ['--config.lr.nope=1'])
  assert str(err) == "--config.lr.nope: the config has no field 'nope'"
  assert cli.config_field_error(AttributeError("'x'"), ['--other=1']) is None


def test_verbose_adds_the_traceback(capsys):
  def fail():
    raise ValueError('bad value\nsecond line')
  with pytest.raises(SystemExit) as exc:
    cli.run(fail, [])
  assert exc.value.code == 2
  err = capsys.readouterr().err
  assert err == 'error: bad value; second line (--verbose shows the traceback)\n'
  with pytest.raises(SystemExit) as exc:
    cli.run(fail, ['--verbose'])
  err = capsys.readouterr().err
  assert exc.value.code == 2 and 'Traceback' in err and err.endswith('error: bad value; '
                                                                     'second line\n')
  def crash():
    raise ZeroDivisionError('division by zero')
  with pytest.raises(SystemExit) as exc:
    cli.run(crash, [])
  assert exc.value.code == 1
  assert 'ZeroDivisionError' in capsys.readouterr().err


@pytest.mark.slow
def test_train_config_mistakes_are_one_line(tmp_path):
  """Unknown config field (with the suggestion) and batch_size=0: one line, exit 2."""
  base = [os.path.join(SCRIPTS, 'train.py'), '--config',
          os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
          '--workdir', str(tmp_path / 'w'), '--config.input_kind=fake']
  _assert_one_line(_run(base + ['--config.total_step=3']), '--config.total_step',
                   'did you mean "total_steps"')
  _assert_one_line(_run(base + ['--config.batch_size=0']), 'batch_size', '0')
  assert not os.path.exists(tmp_path / 'w' / 'checkpoints')


def test_evaluate_unwritable_out_is_refused_before_tracking(tmp_path):
  seq = tmp_path / 'data' / 'seq0'
  (seq / 'img').mkdir(parents=True)
  for k in range(3):
    cv2.imwrite(str(seq / 'img' / f'{k + 1:04d}.jpg'), np.full((32, 32, 3), 50 * k, np.uint8))
  (seq / 'groundtruth_rect.txt').write_text('8,8,10,10\n' * 3)
  blocker = tmp_path / 'afile'
  blocker.write_text('')
  proc = _run([os.path.join(SCRIPTS, 'evaluate.py'), '--baseline', 'MIL', '--dataset',
               'otb_folder', '--data_dir', str(tmp_path / 'data'), '--out', str(blocker / 'sub'),
               '--noprogress'], timeout=120)
  _assert_one_line(proc, '--out', 'sub')
  proc = _run([os.path.join(SCRIPTS, 'evaluate.py'), '--dataset', 'otb_folder', '--data_dir',
               str(tmp_path / 'data'), '--config', os.path.join(ROOT, 'configs', 'nope.py')],
              timeout=120)
  assert proc.returncode != 0 and 'Traceback' not in proc.stderr


# -------------------------------------------------------------- Python API ---
def test_multi_tracker_update_takes_a_dict():
  from spm_jax import config_file
  spm_alexnet = config_file.load_module('spm_alexnet')
  from spm_jax.tracking import MultiTracker
  import jax
  from spm_jax import models
  config = spm_alexnet.get_config('runlocal')
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  variables = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)
  tracker = MultiTracker(config, variables, capacity=2)
  frame = np.zeros((48, 64, 3), np.uint8)
  with pytest.raises(TypeError, match=r'takes a dict \{slot: frame\}, got list'):
    tracker.update([frame])


def test_float_frame_hint_gives_both_ranges():
  from spm_jax.tracking.validation import check_frame
  with pytest.raises(ValueError) as exc:
    check_frame(np.zeros((8, 8, 3), np.float32))
  message = str(exc.value)
  assert '[0, 1] with (x * 255).round().astype(np.uint8)' in message
  assert '[0, 255] with np.clip(x, 0, 255)' in message
