"""spm_jax.analysis.box_stats against hand-computed cases."""

import math

import numpy as np
import pytest

from spm_jax.analysis import box_stats


def test_frame_bins_of_a_100_frame_video_are_the_five_stretches():
  bins = box_stats.frame_bins(100)
  assert bins[0] == -1
  for first, last, b in ((1, 20, 0), (21, 40, 1), (41, 60, 2), (61, 80, 3), (81, 99, 4)):
    assert set(bins[first:last + 1]) == {b}
  assert list(box_stats.frame_bins(1)) == [-1]


def test_box_statistics_by_hand():
  """Two 3-frame videos, 10 x 10 ground truth at the origin, two bins.

  Video A: frame 1 exact (IoU 1, size error 0), frame 2 a 20 x 20 box (IoU
  100 / 400 = 0.25: off the target). Video B: frame 1 unannotated (NaN),
  frame 2 a 12 x 12 box (IoU 100 / 144, size error log 1.2). Scored frames:
  A1, A2, B2; on the target: A1 (bin 0) and B2 (bin 1).
  """
  gt = np.array([[0, 0, 10, 10]] * 3, np.float64)
  gt_b = gt.copy()
  gt_b[1] = np.nan
  pred_a = np.array([[5, 5, 1, 1], [0, 0, 10, 10], [0, 0, 20, 20]], np.float64)
  pred_b = np.array([[5, 5, 1, 1], [0, 0, 30, 30], [0, 0, 12, 12]], np.float64)
  s = box_stats.box_statistics([(pred_a, gt), (pred_b, gt_b)], num_bins=2)
  assert s['num_frames'] == 3
  assert s['on_target'] == pytest.approx(2 / 3)
  assert s['iou_on_target'] == pytest.approx((1 + 100 / 144) / 2)
  np.testing.assert_allclose(s['size_error'], [0.0, math.log(1.2)], atol=1e-12)
  s = box_stats.box_statistics([(pred_a, gt), (pred_b, gt_b)], num_bins=3)
  assert np.isnan(s['size_error'][2])  # frame 2 of 3 is in bin 1; bin 2 is empty
  s = box_stats.box_statistics([(pred_a, gt)], on_target_iou=0.2)
  assert s['on_target'] == 1.0 and s['iou_on_target'] == pytest.approx(0.625)


def test_box_statistics_bad_input_is_clear():
  with pytest.raises(ValueError, match='shape'):
    box_stats.box_statistics([(np.zeros((3, 4)), np.zeros((4, 4)))])
  with pytest.raises(ValueError, match='no scored frames'):
    box_stats.box_statistics([(np.zeros((1, 4)), np.ones((1, 4)))])
