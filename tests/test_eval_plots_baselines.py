"""Plots are written as PNG and PDF; OpenCV baselines follow the interface."""

import os

import numpy as np
import pytest

from spm_jax.evaluation import baselines
from spm_jax.evaluation import plots
from spm_jax.evaluation import report


def _reports():
  rng = np.random.default_rng(0)
  out = {}
  for name, noise in (('ours', 3.0), ('other', 15.0)):
    per_seq = {}
    for s in range(3):
      gt = np.c_[rng.uniform(0, 100, (30, 2)), rng.uniform(10, 50, (30, 2))]
      per_seq[f's{s}'] = (gt + rng.normal(0, noise, gt.shape), gt)
    out[name] = per_seq
  return out


def test_plots_written(tmp_path):
  from spm_jax.evaluation import results
  attrs = {'s0': ('IV', 'OCC'), 's1': ('OCC',), 's2': ()}
  reports = {}
  for name, per_seq in _reports().items():
    for s, (pred, _) in per_seq.items():
      results.write_boxes(tmp_path / name / f'{s}.txt', pred)
    gts = {s: gt for s, (_, gt) in per_seq.items()}
    reports[name] = report.evaluate_results(gts, tmp_path / name,
                                            attributes=attrs)
  assert reports['ours']['success_auc'] > reports['other']['success_auc']
  assert reports['ours']['by_attribute']['OCC']['num_sequences'] == 2
  paths = plots.plot_all(reports, tmp_path / 'plots', 'otb100')
  names = {os.path.basename(p) for p in paths}
  for stem in ('otb100_success', 'otb100_precision', 'otb100_norm_precision',
               'otb100_success_IV', 'otb100_precision_OCC'):
    assert f'{stem}.png' in names and f'{stem}.pdf' in names
  for p in paths:
    assert os.path.getsize(p) > 1000
  table = report.format_table(reports)
  assert table.splitlines()[1].startswith('ours')


def _moving_square(n=6, size=64):
  frames, boxes = [], []
  for k in range(n):
    img = np.zeros((size, size, 3), np.uint8)
    img[::4] = 40  # some texture
    x, y = 16 + 2 * k, 20
    img[y:y + 16, x:x + 16] = (255, 200, 0)
    frames.append(img)
    boxes.append((x, y, 16, 16))
  return frames, boxes


def test_mil_tracks_a_square():
  frames, boxes = _moving_square()
  trk = baselines.OpenCVTracker('MIL')
  trk.init(frames[0], boxes[0])
  for f in frames[1:]:
    box, score = trk.update(f)
    assert len(box) == 4 and score in (0.0, 1.0)
  assert abs(box[0] - boxes[-1][0]) < 8


@pytest.mark.parametrize('name', ['CSRT', 'KCF'])
def test_contrib_trackers_or_clear_skip(name):
  if name not in baselines.available_trackers():
    with pytest.raises(baselines.TrackerUnavailable,
                       match='opencv-contrib-python-headless'):
      baselines.OpenCVTracker(name)
    pytest.skip(f'{name} needs opencv-contrib (not installed)')
  frames, boxes = _moving_square()
  trk = baselines.OpenCVTracker(name)
  trk.init(frames[0], boxes[0])
  box, _ = trk.update(frames[1])
  assert len(box) == 4
