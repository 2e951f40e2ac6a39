"""OTB's TRE and SRE runs (spm_jax.evaluation.protocols) against hand-computed cases."""

import cv2
import numpy as np
import pytest

from spm_jax.analysis import tune
from spm_jax.evaluation import datasets
from spm_jax.evaluation import ope
from spm_jax.evaluation import protocols
from spm_jax.evaluation import report
from spm_jax.evaluation import stats


def _make_otb(root, n_frames=10):
  img = np.zeros((16, 16, 3), np.uint8)
  for s in range(2):
    d = root / f'v{s}'
    (d / 'img').mkdir(parents=True)
    for k in range(1, n_frames + 1):
      cv2.imwrite(str(d / 'img' / f'{k:04d}.jpg'), img)
    with open(d / 'groundtruth_rect.txt', 'w') as f:
      for k in range(n_frames):
        f.write(f'{1 + k},2,4,2\n')


class _Echo:
  """Keeps the box it was started with."""

  def init(self, frame, box):
    self.box = box

  def update(self, frame):
    return self.box, 1.0


def test_segment_starts_hand_cases():
  gt = np.tile([1.0, 1.0, 5.0, 5.0], (10, 1))
  assert protocols.segment_starts(gt, 1) == [0]
  assert protocols.segment_starts(gt, 3) == [0, 3, 6]  # floor(i * 10 / 3)
  assert protocols.segment_starts(gt, 20) == list(range(10))  # parts sharing a frame merge
  gt[3:5] = np.nan
  gt[6, 2] = 0.0  # not annotated either
  assert protocols.segment_starts(gt, 3) == [0, 5, 7]
  with pytest.raises(ValueError, match='segments'):
    protocols.segment_starts(gt, 0)


def test_sre_boxes_hand_values():
  b = protocols.sre_boxes([10.0, 20.0, 40.0, 10.0])
  assert b.shape == (12, 4)
  np.testing.assert_allclose(b[0], [6, 20, 40, 10])  # left by 0.1 w
  np.testing.assert_allclose(b[3], [10, 21, 40, 10])  # down by 0.1 h
  np.testing.assert_allclose(b[4], [6, 19, 40, 10])  # up-left corner
  np.testing.assert_allclose(b[7], [14, 21, 40, 10])
  np.testing.assert_allclose(b[8], [14, 21, 32, 8])  # x 0.8 about the centre (30, 25)
  np.testing.assert_allclose(b[11], [6, 19, 48, 12])  # x 1.2


def test_derive_tre_and_sre(tmp_path):
  _make_otb(tmp_path)
  ds = datasets.otb_folder(tmp_path)
  assert protocols.derive(ds, 'ope') is ds
  tre = protocols.derive(ds, 'tre', segments=2)
  assert tre.names == ['v0@tre0', 'v0@tre1', 'v1@tre0', 'v1@tre1']
  s = tre['v1@tre1']
  assert len(s) == 5 and s.frames[0].endswith('0006.jpg')
  np.testing.assert_allclose(s.init_box, [6, 2, 4, 2])  # the ground truth of frame 6 (1-based)
  sre = protocols.derive(ds, 'sre')
  assert len(sre) == 24 and sre.names[13] == 'v1@sre1'
  s = sre['v0@sre8']
  np.testing.assert_allclose(s.gt[0], [1, 2, 4, 2])
  np.testing.assert_allclose(s.init_box, [1.4, 2.2, 3.2, 1.6])
  with pytest.raises(ValueError, match='protocol'):
    protocols.derive(ds, 'xyz')


def test_runs_are_tracked_from_their_start_and_averaged_per_video(tmp_path):
  _make_otb(tmp_path / 'data')
  ds = datasets.otb_folder(tmp_path / 'data')
  tre = protocols.derive(ds, 'tre', segments=2)
  out = tmp_path / 'res'
  ope.run_ope(_Echo, tre, out, progress=False)
  rep = report.evaluate_results(tre, out)
  # The target moves 1 px a frame, a box of width 4: a run that keeps its first box overlaps
  # (4 - k) / (4 + k) after k frames. Success AUC over 21 thresholds, by hand:
  def auc(n):
    ious = np.array([1.0] + [max(4 - k, 0) / (4 + k) for k in range(1, n)])
    return np.mean([(ious > t).mean() for t in np.linspace(0, 1, 21)])
  per = stats.per_sequence(rep)
  assert set(per) == {'v0', 'v1'}
  np.testing.assert_allclose(per['v0'], (auc(10) + auc(5)) / 2, atol=1e-9)
  # tune.evaluate_point averages per video as well, from each run's own start box.
  sre = protocols.derive(ds, 'sre')
  got = tune.evaluate_point(_Echo, tune.load_frames(sre.subset(['v0@sre0', 'v0@sre8'])))
  assert set(got['per_sequence']) == {'v0@sre0', 'v0@sre8'}
  assert got['auc'] == pytest.approx(np.mean(list(got['per_sequence'].values())))


def test_video_of():
  assert protocols.video_of('Crossing@tre3') == 'Crossing'
  assert protocols.video_of('a@b') == 'a@b'
  assert protocols.by_video({'a@tre0': 0.2, 'a@tre1': 0.4, 'b': 0.5}) == {'a': pytest.approx(0.3),
                                                                          'b': 0.5}
