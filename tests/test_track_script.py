"""scripts/track.py on a short generated video, and the errors a user sees first."""

import importlib.util
import json
import os
import subprocess
import sys

import cv2
import jax
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'scripts', 'track.py')
NUM_FRAMES = 6
SIZE = (320, 240)  # width, height


def _load_script():
  spec = importlib.util.spec_from_file_location('track_script', SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
  """A short synthetic MP4 written with OpenCV and its first target box."""
  from spm_jax.data import synthetic
  seq = synthetic.generate_sequence(11, num_frames=NUM_FRAMES, height=SIZE[1], width=SIZE[0])
  path = tmp_path_factory.mktemp('video') / 'clip.mp4'
  writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, SIZE)
  for frame in seq.frames:
    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  writer.release()
  box = ','.join(f'{v:g}' for v in seq.boxes[0, 0])
  return str(path), box, seq


@pytest.fixture(scope='module')
def runlocal_checkpoint(tmp_path_factory):
  """An exported random model of the ``runlocal`` config."""
  from spm_jax import config_file
  spm_alexnet = config_file.load_module('spm_alexnet')
  from spm_jax import export, models
  config = spm_alexnet.get_config('runlocal')
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  rng = np.random.default_rng(1)
  variables = jax.tree.map(  # random, fan-in scaled; no compilation needed
      lambda s: (rng.normal(size=s.shape) / np.sqrt(np.prod(s.shape[:-1]) if len(s.shape) > 1
                                                     else 10.0)).astype(np.float32), shapes)
  variables['batch_stats'] = jax.tree.map(np.abs, variables['batch_stats'])
  directory = str(tmp_path_factory.mktemp('ckpt') / 'runlocal')
  export.save_model(directory, config, variables)
  return directory


def _error(capsys, argv):
  """Runs the script in-process; returns the printed error (exit code 2)."""
  with pytest.raises(SystemExit) as exc:
    _load_script().main(argv)
  assert exc.value.code == 2
  return capsys.readouterr().err


def test_track_video_end_to_end(clip, runlocal_checkpoint, tmp_path):
  video, box, _ = clip
  out = tmp_path / 'out'
  proc = subprocess.run(
      [sys.executable, SCRIPT, '--video', video, '--box', box, '--out', str(out),
       '--checkpoint', runlocal_checkpoint, '--dump_scores', '--draw_proposals'],
      capture_output=True, text=True, timeout=600, cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert 'fps' in proc.stdout and str(out / 'clip.mp4') in proc.stdout

  cap = cv2.VideoCapture(str(out / 'clip.mp4'))
  count = 0
  while True:
    ok, frame = cap.read()
    if not ok:
      break
    assert frame.shape == (SIZE[1], SIZE[0], 3)
    count += 1
  assert count == NUM_FRAMES

  boxes = np.loadtxt(out / 'clip.txt', delimiter=',')
  assert boxes.shape == (NUM_FRAMES, 4)
  np.testing.assert_allclose(boxes[0], [float(v) for v in box.split(',')], atol=0.01)
  assert np.loadtxt(out / 'clip_time.txt').shape == (NUM_FRAMES,)

  with open(out / 'clip_scores.jsonl') as f:
    rows = [json.loads(line) for line in f]
  assert [r['frame'] for r in rows] == list(range(1, NUM_FRAMES))
  k = 9  # config.tracking.num_candidates
  for r in rows:
    assert np.shape(r['proposals']) == (k, 4)
    for key in ('cm_scores', 'fm_scores', 'fused_scores', 'valid'):
      assert len(r[key]) == k
    assert all(0.0 <= s <= 1.0 for s in r['cm_scores'] + r['fm_scores'])
    assert 0 <= r['chosen'] < k and r['valid'][r['chosen']]
  np.testing.assert_allclose([r['box'] for r in rows], boxes[1:], atol=0.01)


def test_frame_folder_source(clip, tmp_path):
  """``--frames`` reads a folder in natural order (2.png before 10.png)."""
  from spm_jax import video_io
  _, _, seq = clip
  for i, frame in enumerate(seq.frames[:3]):
    cv2.imwrite(str(tmp_path / f'{[2, 10, 11][i]}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  with video_io.FrameSource.open(frames=str(tmp_path)) as source:
    frames = list(source)
  assert len(frames) == 3 and source.num_frames == 3
  for got, want in zip(frames, seq.frames[:3]):
    np.testing.assert_array_equal(got, want)  # PNG is lossless; RGB order kept



def test_unreadable_image_in_a_frame_folder_is_skipped(clip, runlocal_checkpoint, tmp_path,
                                                       capsys):
  """A corrupt image mid-folder: logged, its row repeats the previous box, counts kept."""
  _, box, seq = clip
  folder = tmp_path / 'frames'
  folder.mkdir()
  for i, frame in enumerate(seq.frames):
    cv2.imwrite(str(folder / f'{i + 1:04d}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
  (folder / '0003.png').write_bytes(b'truncated')
  out = tmp_path / 'out'
  _load_script().main(['--frames', str(folder), '--box', box, '--out', str(out),
                       '--checkpoint', runlocal_checkpoint])
  printed = capsys.readouterr().out
  assert '1 unreadable images were skipped' in printed and '0003.png' in printed
  boxes = np.loadtxt(out / 'frames.txt', delimiter=',')
  assert boxes.shape == (NUM_FRAMES, 4)  # rows stay aligned with the folder's frames
  np.testing.assert_array_equal(boxes[2], boxes[1])
  cap = cv2.VideoCapture(str(out / 'frames.mp4'))
  assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == NUM_FRAMES
  cap.release()


def test_unreadable_video_names_the_path(capsys, tmp_path):
  missing = str(tmp_path / 'nope.mp4')
  assert missing in _error(capsys, ['--video', missing, '--box', '1,2,3,4', '--out', str(tmp_path)])
  garbage = tmp_path / 'garbage.mp4'
  garbage.write_bytes(b'not a video' * 100)
  err = _error(capsys, ['--video', str(garbage), '--box', '1,2,3,4', '--out', str(tmp_path)])
  assert str(garbage) in err and 'cannot open' in err


def test_empty_frame_folder(capsys, tmp_path):
  err = _error(capsys, ['--frames', str(tmp_path), '--box', '1,2,3,4', '--out', str(tmp_path)])
  assert 'holds no image' in err and str(tmp_path) in err


def test_box_outside_the_frame(clip, capsys, tmp_path):
  video, _, _ = clip
  err = _error(capsys, ['--video', video, '--box', '400,10,20,20', '--out', str(tmp_path)])
  assert 'outside' in err and '320x240' in err
  err = _error(capsys, ['--video', video, '--box', '10,10,0,20', '--out', str(tmp_path)])
  assert 'size' in err
  err = _error(capsys, ['--video', video, '--box', '10,10,20', '--out', str(tmp_path)])
  assert '4 numbers' in err


def test_missing_box_and_no_display(clip, capsys, tmp_path, monkeypatch):
  video, _, _ = clip
  err = _error(capsys, ['--video', video, '--out', str(tmp_path)])
  assert '--box' in err and '--select' in err
  monkeypatch.delenv('DISPLAY', raising=False)
  monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
  if sys.platform.startswith('linux'):
    err = _error(capsys, ['--video', video, '--select', '--out', str(tmp_path)])
    assert 'display' in err and '--box' in err


def test_codec_missing(clip, capsys, tmp_path):
  video, box, _ = clip
  err = _error(capsys, ['--video', video, '--box', box, '--out', str(tmp_path), '--codec', 'ZZZZ'])
  assert "'ZZZZ' codec" in err and 'mp4v' in err


def test_checkpoint_of_another_config(clip, runlocal_checkpoint, capsys, tmp_path):
  """The full config with a runlocal checkpoint: every mismatched shape is named."""
  video, box, _ = clip
  err = _error(capsys, ['--video', video, '--box', box, '--out', str(tmp_path),
                        '--checkpoint', runlocal_checkpoint,
                        '--config', os.path.join(ROOT, 'configs', 'spm_alexnet.py')])
  assert runlocal_checkpoint in err
  assert 'params/backbone/conv1/kernel: checkpoint (11, 11, 3, 24), config (11, 11, 3, 96)' in err


def test_check_variables_lists_missing_and_extra():
  from spm_jax import config_file
  spm_alexnet = config_file.load_module('spm_alexnet')
  from spm_jax import export, models
  config = spm_alexnet.get_config('runlocal')
  shapes = jax.eval_shape(lambda: models.init_variables(config, jax.random.key(0)))
  variables = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), shapes)
  export.check_variables(config, variables)  # matches
  del variables['params']['fm']['fc1']
  variables['params']['extra'] = {'w': np.zeros((2, 3))}
  with pytest.raises(ValueError) as exc:
    export.check_variables(config, variables, source='ckpt')
  msg = str(exc.value)
  assert 'params/fm/fc1/kernel: missing from the checkpoint (config expects (64, 64))' in msg
  assert 'params/extra/w: not in the model of this config (checkpoint has (2, 3))' in msg
