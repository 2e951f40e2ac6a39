"""Tests of spm_jax.evaluation.metrics: hand-computed cases, a NumPy reference
written here, and a cross-check with the got10k toolkit."""

import numpy as np
import pytest

from spm_jax.evaluation import metrics


# ---------------------------------------------------------------------------
# Independent reference: plain loops, one frame at a time.
# ---------------------------------------------------------------------------
def _ref_iou(a, b):
  ax2, ay2 = a[0] + a[2], a[1] + a[3]
  bx2, by2 = b[0] + b[2], b[1] + b[3]
  iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
  ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
  inter = iw * ih
  union = a[2] * a[3] + b[2] * b[3] - inter
  # (x + w) - x can round above w, so a box's IoU with itself can exceed 1 by an
  # ulp; like got10k, clip to [0, 1].
  return min(1.0, inter / union) if union > 0 else 0.0


def _ref_curves(pred, gt):
  pred = np.array(pred, float)
  pred[0] = gt[0]
  rows = [i for i in range(len(gt)) if not np.isnan(gt[i]).any()]
  succ, prec, nprec = np.zeros(21), np.zeros(51), np.zeros(51)
  for i in rows:
    p, g = pred[i], gt[i]
    o = _ref_iou(p, g)
    dx = (p[0] + p[2] / 2) - (g[0] + g[2] / 2)
    dy = (p[1] + p[3] / 2) - (g[1] + g[3] / 2)
    ce = (dx ** 2 + dy ** 2) ** 0.5
    nce = ((dx / max(g[2], 1)) ** 2 + (dy / max(g[3], 1)) ** 2) ** 0.5
    for k in range(21):
      succ[k] += o > k / 20
    for k in range(51):
      prec[k] += ce <= k
      nprec[k] += nce <= k / 100
  n = max(len(rows), 1)
  return succ / n, prec / n, nprec / n


def _random_track(rng, n, nan_rows=()):
  gt = np.c_[rng.uniform(0, 200, (n, 2)), rng.uniform(5, 80, (n, 2))]
  pred = gt + rng.normal(0, 12, (n, 4))
  pred[:, 2:] = np.abs(pred[:, 2:]) + 1
  gt[list(nan_rows)] = np.nan
  return pred, gt


# ---------------------------------------------------------------------------
# Hand-computed cases.
# ---------------------------------------------------------------------------
def test_iou_hand_cases():
  gt = np.array([[0, 0, 10, 10]] * 4, float)
  pred = np.array([[0, 0, 10, 10],      # identical: 1
                   [5, 0, 10, 10],      # half shifted: 50 / 150
                   [10, 0, 10, 10],     # touching: 0
                   [0, 0, 5, 10]], float)  # contained half: 0.5
  np.testing.assert_allclose(metrics.iou(pred, gt), [1, 1 / 3, 0, 0.5])
  # No +1 pixel: a 1x1 box one pixel away does not overlap.
  assert metrics.iou([[1, 1, 1, 1]], [[0, 0, 1, 1]])[0] == 0.0


def test_success_and_precision_hand_case():
  gt = np.array([[0, 0, 10, 10]] * 4, float)
  pred = np.array([[50, 50, 10, 10],   # frame 0: replaced by gt -> IoU 1, ce 0
                   [5, 0, 10, 10],     # IoU 1/3, ce 5
                   [0, 0, 5, 10],      # IoU 1/2, ce 2.5
                   [30, 0, 10, 10]], float)  # IoU 0, ce 30
  curve = metrics.success_curve(pred, gt)
  # IoUs {1, 1/3, 1/2, 0}: > 0 for 3 frames; > 0.35 for 2; > 0.5 for 1 (strict).
  assert curve[0] == 0.75
  assert curve[7] == 0.5        # t = 0.35
  assert curve[10] == 0.25      # t = 0.5: IoU exactly 0.5 does not count
  assert curve[20] == 0.0       # t = 1: nothing is > 1
  # counts of thresholds passed: IoU 1 -> 20 (t < 1), 1/3 -> 7 (0..0.30),
  # 1/2 -> 10 (0..0.45), 0 -> 0.
  expected_auc = (20 + 7 + 10 + 0) / 4 / 21
  assert metrics.success_auc(pred, gt) == pytest.approx(expected_auc, abs=1e-12)
  assert metrics.precision_at(pred, gt, 20) == 0.75
  assert metrics.precision_at(pred, gt, 5) == 0.75
  assert metrics.precision_at(pred, gt, 4.9) == 0.5
  pcurve = metrics.precision_curve(pred, gt)
  assert pcurve.shape == (51,)
  assert pcurve[0] == 0.25 and pcurve[2] == 0.25 and pcurve[3] == 0.5
  assert pcurve[30] == 1.0


def test_first_frame_modes():
  gt = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], float)
  pred = np.array([[40, 40, 10, 10], [0, 0, 10, 10]], float)
  assert metrics.success_auc(pred, gt, first_frame='gt') == pytest.approx(20 / 21)
  assert metrics.success_auc(pred, gt, first_frame='keep') == pytest.approx(10 / 21)
  assert metrics.success_auc(pred, gt, first_frame='drop') == pytest.approx(20 / 21)
  with pytest.raises(ValueError):
    metrics.success_auc(pred, gt, first_frame='nope')


def test_nan_ground_truth_frames_are_skipped():
  gt = np.array([[0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10]], float)
  pred = np.array([[0, 0, 10, 10], [99, 99, 1, 1], [30, 0, 10, 10]], float)
  # Two scored frames: IoU 1 and 0.
  assert metrics.success_curve(pred, gt)[0] == 0.5
  assert metrics.precision_at(pred, gt) == 0.5
  assert metrics.normalized_precision(pred, gt, mode='at') == 0.5


def test_nan_prediction_is_a_failure():
  gt = np.array([[0, 0, 10, 10]] * 2, float)
  pred = np.array([[0, 0, 10, 10], [np.nan] * 4], float)
  assert metrics.success_curve(pred, gt)[0] == 0.5
  assert metrics.precision_at(pred, gt) == 0.5


def test_normalized_precision_hand_case():
  gt = np.array([[0, 0, 20, 10]] * 3, float)
  pred = np.array([[0, 0, 20, 10],
                   [3, 0, 20, 10],    # dx 3 / w 20 = 0.15
                   [0, 4, 20, 10]], float)  # dy 4 / h 10 = 0.4
  assert metrics.normalized_precision(pred, gt, mode='at') == pytest.approx(2 / 3)
  assert metrics.normalized_precision(pred, gt, mode='at', threshold=0.4) == 1.0
  # AUC: frame 0 passes 51 thresholds, frame 1 passes t >= 0.15 (36), frame 2
  # passes t >= 0.4 (11).
  assert metrics.normalized_precision(pred, gt) == pytest.approx(
      (51 + 36 + 11) / 3 / 51, abs=1e-12)
  # Tiny boxes: the size is floored at 1 pixel.
  small = np.array([[0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]], float)
  shifted = small + [0.3, 0, 0, 0]
  err = metrics.normalized_center_error(shifted, small)
  np.testing.assert_allclose(err, [0.3, 0.3])


def test_shapes_and_errors():
  with pytest.raises(ValueError, match='pred has 2 boxes'):
    metrics.success_curve(np.zeros((2, 4)), np.ones((3, 4)))
  with pytest.raises(ValueError, match=r'\[N, 4\]'):
    metrics.iou(np.zeros((2, 5)), np.zeros((2, 5)))
  assert metrics.success_curve(np.zeros((1, 4)), np.full((1, 4), np.nan)).sum() == 0


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_against_numpy_reference(seed):
  rng = np.random.default_rng(seed)
  pred, gt = _random_track(rng, 60, nan_rows=(5, 17, 18))
  succ, prec, nprec = _ref_curves(pred, gt)
  np.testing.assert_allclose(metrics.success_curve(pred, gt), succ, atol=1e-12)
  np.testing.assert_allclose(metrics.precision_curve(pred, gt), prec, atol=1e-12)
  np.testing.assert_allclose(metrics.normalized_precision_curve(pred, gt), nprec,
                             atol=1e-12)
  assert metrics.success_auc(pred, gt) == pytest.approx(succ.mean(), abs=1e-12)
  assert metrics.precision_at(pred, gt) == pytest.approx(prec[20], abs=1e-12)
  assert metrics.normalized_precision(pred, gt) == pytest.approx(nprec.mean(),
                                                                 abs=1e-12)
  s = metrics.summarize(pred, gt)
  assert s['norm_precision_020'] == pytest.approx(nprec[20], abs=1e-12)


# ---------------------------------------------------------------------------
# Cross-check with the got10k toolkit: same result files through both.
# ---------------------------------------------------------------------------
class _FakeOTB:
  """Stands in for got10k.datasets.OTB: (img_files, anno) per sequence."""

  def __init__(self, annos):
    self.seq_names = list(annos)
    self._annos = [annos[n] for n in self.seq_names]

  def __len__(self):
    return len(self._annos)

  def __iter__(self):
    return iter([([], a) for a in self._annos])


def test_cross_check_with_got10k(tmp_path):
  pytest.importorskip('got10k')
  from got10k.experiments import otb as got10k_otb
  from spm_jax.evaluation import report, results

  rng = np.random.default_rng(7)
  annos, tracker_dir = {}, tmp_path / 'results' / 'ours'
  for k in range(4):
    pred, gt = _random_track(rng, 40 + 7 * k)
    gt = np.round(gt, 2)
    annos[f'seq{k}'] = gt
    results.write_boxes(tracker_dir / f'seq{k}.txt', pred)
    results.write_times(tracker_dir / 'times' / f'seq{k}_time.txt',
                        np.full(len(pred), 0.01))

  exp = object.__new__(got10k_otb.ExperimentOTB)
  exp.dataset = _FakeOTB(annos)
  exp.result_dir = str(tmp_path / 'results')
  exp.report_dir = str(tmp_path / 'reports')
  exp.nbins_iou, exp.nbins_ce = 21, 51
  exp.plot_curves = lambda names: None
  theirs = exp.report(['ours'])['ours']

  ours = report.evaluate_results(annos, tracker_dir)
  np.testing.assert_allclose(ours['success_curve'],
                             theirs['overall']['success_curve'], atol=1e-9)
  np.testing.assert_allclose(ours['precision_curve'],
                             theirs['overall']['precision_curve'], atol=1e-9)
  assert ours['success_auc'] == pytest.approx(
      theirs['overall']['success_score'], abs=1e-9)
  assert ours['precision_20'] == pytest.approx(
      theirs['overall']['precision_score'], abs=1e-9)
  assert ours['fps'] == pytest.approx(theirs['overall']['speed_fps'], abs=1e-6)
  for name in annos:
    assert ours['per_sequence'][name]['success_auc'] == pytest.approx(
        theirs['seq_wise'][name]['success_score'], abs=1e-9)


def test_cross_check_iou_and_center_error_with_got10k():
  pytest.importorskip('got10k')
  from got10k.utils import metrics as g
  rng = np.random.default_rng(3)
  pred, gt = _random_track(rng, 500)
  np.testing.assert_allclose(metrics.iou(pred, gt), g.rect_iou(pred, gt),
                             atol=1e-9)
  np.testing.assert_allclose(metrics.center_error(pred, gt),
                             g.center_error(pred, gt), atol=1e-9)
