"""The size-response check of the box regression (spm_jax/analysis/size_response.py)."""

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from spm_jax.analysis import size_response
from spm_jax.data import synthetic as synthetic_data
from spm_jax.evaluation import datasets
from spm_jax.tracking import Tracker


class _PartialRegression:
  """A tracker whose estimate keeps ``1 - k`` of the given size's log error and adds ``bias``:

  log s_est = k log s_gt + (1 - k) log s_given + bias, s = sqrt(w h), centred on the GT.
  Its correction is k by construction.
  """

  def __init__(self, gt_image, k, bias=0.0):
    self.gt, self.k, self.bias = gt_image, k, bias
    self.given = None
    self.last_outputs = None

  def init(self, frame, box):
    assert frame[0, 0, 0] == 0
    np.testing.assert_allclose(box, self.gt[0])

  def set_box(self, box):
    self.given = np.asarray(box, np.float64)

  def update(self, frame):
    self.t = int(round(frame[0, 0, 0] / 10.0))  # the frame index, written in the image
    g = self.gt[self.t]
    s_gt, s_given = np.sqrt(g[2] * g[3]), np.sqrt(self.given[2] * self.given[3])
    s = np.exp(self.k * np.log(s_gt) + (1 - self.k) * np.log(s_given) + self.bias)
    w, h = g[2] * s / s_gt, g[3] * s / s_gt
    cx, cy = g[0] + g[2] / 2, g[1] + g[3] / 2
    self.last_outputs = {'estimate': np.array([cx - w / 2, cy - h / 2, w, h])}
    return self.last_outputs['estimate'], 1.0


def _sequence(tmp_path, n=12, origin=1.0):
  paths = [str(tmp_path / f'{t:04d}.png') for t in range(n)]
  for t, path in enumerate(paths):
    cv2.imwrite(path, np.full((96, 128, 3), 10 * t, np.uint8))
  k = np.arange(n, dtype=np.float64)
  gt = np.stack([30 + 2 * k, 20 + k, 20 * 1.03**k, 16 * 0.98**k], axis=1)  # scale changes
  gt[5] = np.nan  # a missing annotation: frames 5 and 6 are not scored
  return datasets.Sequence('s', paths, gt, pixel_origin=origin)


@pytest.mark.parametrize('k, bias, factor', [(0.25, 0.0, 1.15), (0.25, 0.0, 0.85),
                                             (0.7, 0.01, 1.2), (1.0, 0.0, 0.8)])
def test_correction_of_a_known_partial_regression(tmp_path, k, bias, factor):
  seq = _sequence(tmp_path)
  trk = _PartialRegression(seq.to_image(seq.gt), k, bias)
  errors = size_response.gt_guided_size_errors(trk, seq, factor)
  assert np.isnan(errors[[0, 5, 6]]).all() and np.isfinite(np.delete(errors, [0, 5, 6])).all()
  # By hand: error_t = (1 - k) (log f + log s_{t-1} - log s_t) + bias, s_t = sqrt(w_t h_t).
  gt = seq.gt
  log_s = 0.5 * np.log(gt[:, 2] * gt[:, 3])
  for t in (1, 2, 3, 4, 7, 11):
    want = (1 - k) * (np.log(factor) + log_s[t - 1] - log_s[t]) + bias
    np.testing.assert_allclose(errors[t], want, rtol=1e-9, atol=1e-12)
  summary = size_response.size_response(errors, factor)
  assert summary['frames'] == 9
  want_median = np.median([(1 - k) * (np.log(factor) + log_s[t - 1] - log_s[t]) + bias
                           for t in (1, 2, 3, 4, 7, 8, 9, 10, 11)])
  np.testing.assert_allclose(summary['median_error'], want_median, rtol=1e-9, atol=1e-12)
  np.testing.assert_allclose(summary['correction'], 1 - want_median / np.log(factor), rtol=1e-9,
                             atol=1e-12)


def test_summary_by_hand():
  s = size_response.size_response([np.array([np.nan, 0.05, 0.1]), np.array([0.2])], 1.5)
  assert s['frames'] == 3
  np.testing.assert_allclose(s['median_error'], 0.1)
  np.testing.assert_allclose(s['correction'], 1 - 0.1 / np.log(1.5))
  assert np.isnan(size_response.size_response([0.01, 0.03], 1.0)['correction'])
  with pytest.raises(ValueError, match='no scored frames'):
    size_response.size_response([np.nan], 1.2)
  with pytest.raises(ValueError, match='factor must be > 0'):
    size_response.gt_guided_size_errors(None, None, 0.0)


@pytest.fixture(scope='module')
def pretrained():
  """The embedded procedural model's tracker (trained on videos like these), compiled once for
  this file's tests (each re-inits it)."""
  return Tracker.pretrained('procedural')


def test_real_tracker_estimate_is_the_box_before_the_size_update(pretrained):
  """``last_outputs['estimate']`` is the chosen box before smoothing: the output box has its
  centre, and the size ``(1 - lr) x previous + lr x its size`` with ``lr = size_lr x score``
  (the embedded procedural model on a procedural video, target inside the frame)."""
  video = synthetic_data.generate_sequence((7, 3), num_frames=2)
  first = np.asarray(video.boxes[0, 0], np.float64)  # the target: x, y, w, h image pixels
  tracker = pretrained
  tracker.init(video.frames[0], first)
  box, score = tracker.update(video.frames[1])
  assert score >= tracker.config.tracking.min_score  # the state follows the estimate
  est = np.asarray(tracker.last_outputs['estimate'], np.float64)
  assert est.shape == (4,) and np.all(np.isfinite(est)) and est[2] > 0 and est[3] > 0
  h, w = video.frames[1].shape[:2]
  assert box[0] > 0 and box[1] > 0 and box[0] + box[2] < w and box[1] + box[3] < h, box
  np.testing.assert_allclose(box[:2] + box[2:] / 2, est[:2] + est[2:] / 2, atol=1e-3)
  # lr = size_lr x score x the size-change penalty of the pick (pysot), by hand:
  # exp(-(max(r, 1/r) max(s, 1/s) - 1) k), r the aspect change, s that of sqrt((w+p)(h+p)).
  side = lambda wh: np.sqrt((wh[0] + wh.sum() / 2) * (wh[1] + wh.sum() / 2))
  r = (est[2] / est[3]) / (first[2] / first[3])
  s = side(est[2:]) / side(first[2:])
  pen = np.exp(-(max(r, 1 / r) * max(s, 1 / s) - 1) * tracker.config.tracking.penalty_k)
  lr = tracker.config.tracking.size_lr * score * pen
  np.testing.assert_allclose(box[2:], (1 - lr) * first[2:] + lr * est[2:], rtol=1e-4)
  assert not np.allclose(est[2:], first[2:], rtol=1e-3)  # the check above is not trivial


def test_script_prints_a_row_per_factor(tmp_path):
  import jax  # pylint: disable=import-outside-toplevel
  from spm_jax import config_file  # pylint: disable=import-outside-toplevel
  synthetic = config_file.load_module('synthetic')
  from spm_jax import export  # pylint: disable=import-outside-toplevel
  from spm_jax import models  # pylint: disable=import-outside-toplevel
  config = synthetic.get_config('runlocal')
  export.save_model(str(tmp_path / 'model'), config,
                    models.init_variables(config, jax.random.key(0)))
  synthetic_data.export_otb(tmp_path / 'val', 1, 4, seed=2000)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  p = subprocess.run([sys.executable, os.path.join(root, 'scripts', 'size_response.py'),
                      '--config', os.path.join(root, 'configs', 'synthetic.py') + ':runlocal',
                      '--checkpoint', str(tmp_path / 'model'), '--data_dir', str(tmp_path / 'val'),
                      '--factors', '0.9,1.1'], capture_output=True, text=True, cwd=root,
                     timeout=300, check=False)
  assert p.returncode == 0, p.stderr[-3000:]
  rows = [line for line in p.stdout.splitlines() if line.startswith('| 0.9 |')
          or line.startswith('| 1.1 |')]
  assert len(rows) == 2 and all('| 3 |' in r for r in rows), p.stdout  # 3 scored frames each


def test_real_tracker_estimate_is_a_fused_refined_box(pretrained):
  """``last_outputs['refined']`` are the FM boxes: eq. (2) on them and ``proposals`` (NumPy,
  in cx, cy, w, h) gives the estimate for one of the valid candidates."""
  video = synthetic_data.generate_sequence((7, 4), num_frames=3)
  tracker = pretrained
  tracker.init(video.frames[0], np.asarray(video.boxes[0, 0], np.float64))
  for frame in video.frames[1:]:
    tracker.update(frame)
  out = {k: np.asarray(v, np.float64) for k, v in tracker.last_outputs.items()}
  cxcywh = lambda b: np.concatenate([b[..., :2] + b[..., 2:] / 2, b[..., 2:]], axis=-1)
  t = tracker.config.tracking
  uc, uf = out['cm_scores'], out['fm_scores']
  wc = uc / (t.fm_box_weight * uf + uc)
  fused = wc[:, None] * cxcywh(out['proposals']) + (1 - wc[:, None]) * cxcywh(out['refined'])
  err = np.abs(fused - cxcywh(out['estimate'])).max(axis=1)
  assert np.min(np.where(out['valid'] > 0, err, np.inf)) < 1e-3, err
  assert not np.allclose(out['refined'], out['proposals'], atol=1e-3)  # the FM stage moved them
