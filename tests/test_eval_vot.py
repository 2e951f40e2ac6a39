"""VOT supervised protocol: overlap, resets, accuracy / robustness, EAO."""

import cv2
import numpy as np
import pytest

from spm_jax.evaluation import datasets
from spm_jax.evaluation import vot


def test_overlap_box_vs_polygon():
  diamond = [10, 0, 20, 10, 10, 20, 0, 10]          # area 200
  assert vot.overlap([0, 0, 20, 20], diamond) == pytest.approx(200 / 400)
  assert vot.overlap([0, 0, 10, 10], diamond) == pytest.approx(50 / 250)
  assert vot.overlap([30, 30, 5, 5], diamond) == 0.0
  assert vot.overlap([0, 0, 4, 4], [0, 0, 4, 4]) == pytest.approx(1.0)
  # Bounds: the part of the box outside a 10x10 image does not count.
  assert vot.overlap([0, 0, 20, 10], [0, 0, 10, 10], bounds=(10, 10)) == 1.0
  assert vot.overlap([np.nan] * 4, diamond) == 0.0


def test_overlap_matches_shapely():
  shapely = pytest.importorskip('shapely.geometry')
  rng = np.random.default_rng(0)
  for _ in range(50):
    c = rng.uniform(20, 40, 2)
    a, w, h = rng.uniform(0, np.pi), rng.uniform(5, 20), rng.uniform(5, 20)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    corners = (np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2) @ r.T + c
    box = np.r_[rng.uniform(15, 35, 2), rng.uniform(5, 25, 2)]
    p = shapely.Polygon(corners)
    b = shapely.box(box[0], box[1], box[0] + box[2], box[1] + box[3])
    want = p.intersection(b).area / p.union(b).area
    assert vot.overlap(box, corners.reshape(-1)) == pytest.approx(want, abs=1e-9)


class _ScriptedTracker:
  """Follows the ground truth except on the frames listed in ``lost``."""

  def __init__(self, gt, lost):
    self.gt, self.lost, self.t = gt, set(lost), 0
    self.inits = []

  def init(self, frame, box):
    self.t = next(i for i in range(len(self.gt))
                  if np.allclose(self.gt[i], box) and i not in self.inits)
    self.inits.append(self.t)

  def update(self, frame):
    self.t += 1
    if self.t in self.lost:
      return (100.0, 100.0, 1.0, 1.0), 0.0
    return tuple(self.gt[self.t] + [0.5, 0, 0, 0]), 1.0


def _sequence(tmp_path, n):
  img = np.zeros((32, 32, 3), np.uint8)
  path = str(tmp_path / 'f.jpg')
  cv2.imwrite(path, img)
  gt = np.array([[1.0 + 0.1 * k, 2.0, 10.0, 10.0] for k in range(n)])
  return datasets.Sequence('s', [path] * n, gt,
                           datasets.box_to_polygon(gt))


def test_supervised_run_resets(tmp_path):
  seq = _sequence(tmp_path, 20)
  trk = _ScriptedTracker(seq.gt, lost={3})
  run = vot.run_supervised(trk, seq)
  assert trk.inits == [0, 8]             # failure at 3, re-init 5 frames later
  assert run.failures == [3]
  assert run.codes[0] == vot.INIT and run.codes[8] == vot.INIT
  assert (run.codes[4:8] == vot.SKIPPED).all()
  assert np.isnan(run.overlaps[[0, 3, 4, 8]]).all()
  assert run.overlaps[1] == pytest.approx(9.5 / 10.5)
  ar = vot.accuracy_robustness([run])
  # Burn-in masks 0..9 and 8..17: only frames 18, 19 count.
  assert ar['accuracy'] == pytest.approx(9.5 / 10.5)
  assert ar['failures'] == 1
  assert ar['robustness'] == pytest.approx(100 / 20)
  path = tmp_path / 'baseline' / 's' / 's_001.txt'
  vot.write_run(str(path), run)
  back = vot.read_run(str(path), seq)
  np.testing.assert_array_equal(back.codes[:9],
                                [1, -1, -1, 2, 0, 0, 0, 0, 1])
  np.testing.assert_allclose(back.overlaps, run.overlaps, atol=1e-4)


def test_eao_hand_computed():
  nan = np.nan
  # Run A: 10 frames; 0.6, 0.6, failure at 3, re-init at 8, then 0.8.
  a = vot.SupervisedRun(
      'a', None, np.array([1, -1, -1, 2, 0, 0, 0, 0, 1, -1]),
      np.array([nan, .6, .6, nan, nan, nan, nan, nan, nan, .8]), None)
  # Run B: 4 frames, no failure, overlap 1.
  b = vot.SupervisedRun('b', None, np.array([1, -1, -1, -1]),
                        np.array([nan, 1., 1., 1.]), None)
  segs = vot.eao_segments(a.overlaps, a.codes)
  assert [len(s) for s, _ in segs] == [9, 2] and [f for _, f in segs] == [
      True, False]
  out = vot.eao([a, b], length_range=(2, 5))
  # Segments: A1 = [0 .6 .6 0 0 0 0 0 0] + zeros (failed), A2 = [0 .8],
  # B = [0 1 1 1]. curve[1] = mean(.6, .8, 1) = .8; curve[2] = mean(.6, 1) =
  # .8; curve[3] = mean(1.2 / 3, 1) = .7; curve[4] = 1.2 / 4 = .3; then 1.2 / i.
  want = [1, .8, .8, .7, .3, .24, .2, 1.2 / 7, .15, 1.2 / 9]
  np.testing.assert_allclose(out['curve'], want, atol=1e-12)
  assert out['eao'] == pytest.approx((.8 + .8 + .7 + .3) / 4, abs=1e-12)
  assert vot.EAO_RANGES[2016] == (108, 371)
  assert vot.EAO_RANGES[2017] == vot.EAO_RANGES[2018] == (100, 356)
