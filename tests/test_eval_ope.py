"""OPE on synthetic OTB-layout sequences: results written, second run skips."""

import os

import cv2
import numpy as np
import pytest

from spm_jax.data import synthetic
from spm_jax.evaluation import datasets
from spm_jax.evaluation import ope
from spm_jax.evaluation import report
from spm_jax.evaluation import results


class InitBoxTracker:
  """Returns the init box forever; records what it was given."""

  def __init__(self):
    self.calls = 0

  def init(self, frame, box):
    assert frame.dtype == np.uint8 and frame.shape == (8, 8, 3)
    assert len(box) == 4
    self.box = tuple(box)

  def update(self, frame):
    assert frame.dtype == np.uint8 and frame.ndim == 3
    self.calls += 1
    return self.box, 0.5


def _make_otb(root, n_seqs=2, n_frames=5):
  img = np.zeros((8, 8, 3), np.uint8)
  img[..., 0] = 255  # RGB red is BGR (0, 0, 255) on disk.
  for s in range(n_seqs):
    d = root / f'seq{s}'
    (d / 'img').mkdir(parents=True)
    for k in range(1, n_frames + 1):
      cv2.imwrite(str(d / 'img' / f'{k:04d}.jpg'), img[..., ::-1])
    with open(d / 'groundtruth_rect.txt', 'w') as f:
      for k in range(n_frames):
        f.write(f'{1 + k},{2},{3},{4}\n')


def test_ope_writes_then_skips(tmp_path):
  _make_otb(tmp_path / 'data')
  ds = datasets.otb_folder(tmp_path / 'data')
  assert ds['seq0'].frame(0)[0, 0, 0] > 200  # Frames come back RGB.
  out = tmp_path / 'results' / 'init_box'
  trk = InitBoxTracker()
  status = ope.run_ope(trk, ds, out, progress=False)
  assert status == {'seq0': 'done', 'seq1': 'done'}
  assert trk.calls == 8
  boxes, times = results.read_result(out, 'seq0')
  np.testing.assert_allclose(boxes, [[1, 2, 3, 4]] * 5)
  assert times.shape == (5,) and (times >= 0).all()
  assert os.path.isfile(out / 'times' / 'seq1_time.txt')

  status = ope.run_ope(trk, ds, out, progress=False)
  assert status == {'seq0': 'skipped', 'seq1': 'skipped'}
  assert trk.calls == 8

  os.remove(out / 'seq1.txt')  # An interrupted run resumes where it stopped.
  status = ope.run_ope(InitBoxTracker, ds, out, progress=False)
  assert status == {'seq0': 'skipped', 'seq1': 'done'}

  rep = report.evaluate_results(ds, out)
  # Frame k's gt is shifted by k pixels: IoU (3 - k) / (3 + k) for k < 3.
  assert 0 < rep['success_auc'] < 1
  assert rep['precision_20'] == 1.0


def test_ope_got10k_layout(tmp_path):
  _make_otb(tmp_path / 'data', n_seqs=1, n_frames=3)
  ds = datasets.otb_folder(tmp_path / 'data')
  out = tmp_path / 'got'
  ope.run_ope(InitBoxTracker(), ds, out, fmt='got10k', progress=True)
  assert os.path.isfile(out / 'seq0' / 'seq0_001.txt')
  assert os.path.isfile(out / 'seq0' / 'seq0_time.txt')
  assert results.detect_format(out) == 'got10k'
  assert ope.run_ope(InitBoxTracker(), ds, out, fmt='got10k',
                     progress=False) == {'seq0': 'skipped'}


def test_read_result_missing(tmp_path):
  with pytest.raises(FileNotFoundError, match='seqX'):
    results.read_result(tmp_path, 'seqX')


def test_unreadable_frames_are_skipped_and_counted(tmp_path):
  _make_otb(tmp_path / 'data', n_seqs=2, n_frames=5)
  bad = tmp_path / 'data' / 'seq1' / 'img' / '0003.jpg'
  bad.write_bytes(b'not a jpeg')  # corrupt
  (tmp_path / 'data' / 'seq1' / 'img' / '0004.jpg').write_bytes(b'')  # empty
  ds = datasets.otb_folder(tmp_path / 'data')
  trk = InitBoxTracker()
  out = tmp_path / 'results' / 'init_box'
  status = ope.run_ope(trk, ds, out, progress=False)
  assert status == {'seq0': 'done', 'seq1': 'done'}
  assert status.num_unreadable == 2
  assert [os.path.basename(p) for p in status.unreadable['seq1']] == ['0003.jpg', '0004.jpg']
  assert trk.calls == 4 + 2  # seq0: 4 updates; seq1: frames 2 and 5 only
  boxes = np.loadtxt(out / 'seq1.txt', delimiter=',')
  assert boxes.shape == (5, 4)  # rows stay aligned with the ground truth
  np.testing.assert_array_equal(boxes[2], boxes[1])
  np.testing.assert_array_equal(boxes[3], boxes[1])


def test_unreadable_first_frame_names_the_file(tmp_path):
  _make_otb(tmp_path / 'data', n_seqs=1, n_frames=3)
  (tmp_path / 'data' / 'seq0' / 'img' / '0001.jpg').write_bytes(b'')
  ds = datasets.otb_folder(tmp_path / 'data')
  with pytest.raises(OSError, match='0001.jpg.*cannot be initialised'):
    ope.run_ope(InitBoxTracker(), ds, tmp_path / 'out', progress=False)


class OracleTracker:
  """Answers the generator's own boxes (0-based image pixels) frame by frame."""

  def __init__(self, truth):
    self.truth = truth

  def init(self, frame, box):
    self.init_box, self.t = tuple(box), 0

  def update(self, frame):
    self.t += 1
    return tuple(self.truth[self.t]), 1.0


def test_trackers_see_image_pixels_and_results_keep_the_otb_numbers(tmp_path):
  """The exporter writes OTB's 1-based numbers (x + 1); a tracker that knows
  where the object is in the image (0-based, the generator's boxes) must score
  IoU 1 on every frame, and its result file must hold the file's numbers."""
  synthetic.export_otb(tmp_path / 'd', 1, num_frames=6, seed=3)
  truth = synthetic.generate_sequence(synthetic.sequence_seed(3, 0), num_frames=6)
  truth = truth.boxes[:, 0].astype(np.int64).astype(np.float64)  # as the exporter rounds them
  ds = datasets.otb_folder(tmp_path / 'd')
  trk = OracleTracker(truth)
  ope.run_ope(trk, ds, tmp_path / 'res', progress=False)
  np.testing.assert_allclose(trk.init_box, truth[0])  # 0-based: the file's x - 1, y - 1
  boxes, _ = results.read_result(tmp_path / 'res', 'synth_0000')
  np.testing.assert_allclose(boxes, truth + [1, 1, 0, 0])
  np.testing.assert_allclose(boxes, ds['synth_0000'].gt)
  # IoU 1 on every frame: the got10k AUC's maximum, 20 of its 21 thresholds (IoU > 1 never holds).
  assert report.evaluate_results(ds, tmp_path / 'res')['success_auc'] == pytest.approx(20 / 21)
