"""Ctrl-C (SIGINT) sent to the real scripts at several moments: exit code 130, no traceback
or crash, and outputs either absent (earlier ones untouched) or complete and consistent."""

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, 'scripts')
EARLIER = {'clip.mp4': b'earlier video', 'clip.txt': b'1,2,3,4\n'}
pytestmark = pytest.mark.skipif(os.name != 'posix', reason='POSIX signals')


def _start(args):
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONUNBUFFERED='1')
  return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_line(proc, prefix, timeout=300):
  """Reads stdout until a line starts with ``prefix``; returns the lines read."""
  lines, deadline = [], time.time() + timeout
  while time.time() < deadline:
    line = proc.stdout.readline()
    if not line:
      break
    lines.append(line)
    if line.startswith(prefix):
      return lines
  raise AssertionError(f'no line {prefix!r} in {lines} (rc {proc.poll()})')


def _interrupt(proc, timeout=120):
  """Sends SIGINT to a running ``proc`` (asserting it still runs); returns (rc, out, err)."""
  assert proc.poll() is None, 'the process ended before the interrupt'
  proc.send_signal(signal.SIGINT)
  out, err = proc.communicate(timeout=timeout)
  return proc.returncode, out, err


@pytest.fixture(scope='module')
def video(tmp_path_factory):
  """A 400-frame 96x72 clip with a square moving right; its first box."""
  path = str(tmp_path_factory.mktemp('video') / 'clip.mp4')
  writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 25.0, (96, 72))
  for i in range(400):
    frame = np.full((72, 96, 3), 90, np.uint8)
    x = 10 + (i % 60)
    frame[20:40, x:x + 20] = (0, 0, 230)
    writer.write(frame)
  writer.release()
  return path, '10,20,20,20'


def _track(video, out):
  path, box = video
  out.mkdir(exist_ok=True)
  for name, data in EARLIER.items():
    (out / name).write_bytes(data)
  return _start([os.path.join(SCRIPTS, 'track.py'), '--video', path, '--box', box,
                 '--out', str(out), '--log_every', '10'])


def _assert_clean(rc, err, out):
  assert rc == 130, err[-3000:]
  assert 'Traceback' not in err and 'Segmentation' not in err, err[-3000:]
  assert not [f for f in os.listdir(out) if '.partial' in f]


def _assert_consistent(out):
  """clip.txt, clip_time.txt and clip.mp4 hold the same number of frames; returns it."""
  rows = np.loadtxt(out / 'clip.txt', delimiter=',', ndmin=2)
  assert rows.shape[1] == 4
  assert len(np.loadtxt(out / 'clip_time.txt', ndmin=1)) == len(rows)
  cap = cv2.VideoCapture(str(out / 'clip.mp4'))
  count = 0
  while cap.read()[0]:
    count += 1
  cap.release()
  assert count == len(rows)
  return len(rows)


@pytest.mark.slow
def test_track_interrupted_before_the_first_frame(video, tmp_path):
  """SIGINT 1 s after the start (imports, model loading): nothing written, the earlier
  outputs untouched."""
  out = tmp_path / 'out'
  proc = _track(video, out)
  time.sleep(1.0)
  rc, stdout, err = _interrupt(proc)
  _assert_clean(rc, err, out)
  assert 'tracking ' not in stdout
  assert {f: (out / f).read_bytes() for f in os.listdir(out)} == EARLIER


@pytest.mark.slow
def test_track_interrupted_while_compiling_and_while_tracking(video, tmp_path):
  # Right after the model is built: the first frames compile. The earlier outputs stay
  # (nothing tracked yet) or are replaced by complete, consistent ones.
  out = tmp_path / 'compiling'
  proc = _track(video, out)
  _wait_for_line(proc, 'tracking ')
  rc, _, err = _interrupt(proc)
  _assert_clean(rc, err, out)
  if (out / 'clip.txt').read_bytes() != EARLIER['clip.txt']:
    assert _assert_consistent(out) >= 2
  else:
    assert (out / 'clip.mp4').read_bytes() == EARLIER['clip.mp4']

  # Mid-stream: the frames tracked so far are written and consistent.
  out = tmp_path / 'tracking'
  proc = _track(video, out)
  _wait_for_line(proc, 'frame 20:')
  rc, stdout, err = _interrupt(proc)
  _assert_clean(rc, err, out)
  assert 'interrupted: the outputs hold frames 0 to' in stdout
  assert 21 <= _assert_consistent(out) < 400


def _make_otb(root, n_seqs, n_frames):
  for s in range(n_seqs):
    d = root / f'seq{s}'
    (d / 'img').mkdir(parents=True)
    for k in range(n_frames):
      img = np.full((48, 48, 3), 60, np.uint8)
      img[10:26, 8 + k % 20:24 + k % 20] = (0, 200, 255)
      cv2.imwrite(str(d / 'img' / f'{k + 1:04d}.jpg'), img)
    (d / 'groundtruth_rect.txt').write_text('8,10,16,16\n' * n_frames)


def test_evaluate_interrupted_between_sequences(tmp_path):
  """An OpenCV baseline over 6 sequences: SIGINT once the first result file exists. Every
  result file written is complete; the interrupted sequence has none (a rerun does it)."""
  n_frames = 150
  _make_otb(tmp_path / 'data', 6, n_frames)
  res = tmp_path / 'res' / 'otb_folder' / 'MIL'
  proc = _start([os.path.join(SCRIPTS, 'evaluate.py'), '--baseline', 'MIL', '--dataset',
                 'otb_folder', '--data_dir', str(tmp_path / 'data'), '--out',
                 str(tmp_path / 'res'), '--noprogress'])
  deadline = time.time() + 120
  while not (res / 'seq0.txt').exists() and proc.poll() is None and time.time() < deadline:
    time.sleep(0.005)
  rc, _, err = _interrupt(proc)
  assert rc == 130, err[-3000:]
  assert 'Traceback' not in err
  done = sorted(f for f in os.listdir(res) if f.startswith('seq') and '_time' not in f)
  assert 1 <= len(done) < 6 and not [f for f in os.listdir(res) if f.endswith('.tmp')]
  for name in done:
    assert np.loadtxt(res / name, delimiter=',').shape == (n_frames, 4)
