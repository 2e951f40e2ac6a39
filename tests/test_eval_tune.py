"""Grid search of tracking hyper-parameters (spm_jax/analysis/tune.py)."""

import jax
import ml_collections
import numpy as np
import pytest

from spm_jax.analysis import tune
from spm_jax.evaluation import datasets
from spm_jax.evaluation import metrics


def test_parse_grid_and_points():
  grid = tune.parse_grid(['tracking.size_lr=0.1,0.3', 'tracking.num_candidates=3,9'])
  assert grid == {'tracking.size_lr': (0.1, 0.3), 'tracking.num_candidates': (3.0, 9.0)}
  points = tune.grid_points(grid)
  assert points == [{'tracking.size_lr': 0.1, 'tracking.num_candidates': 3.0},
                    {'tracking.size_lr': 0.1, 'tracking.num_candidates': 9.0},
                    {'tracking.size_lr': 0.3, 'tracking.num_candidates': 3.0},
                    {'tracking.size_lr': 0.3, 'tracking.num_candidates': 9.0}]
  for bad in ('tracking.size_lr', 'tracking.size_lr=', 'tracking.size_lr=a,b', '=1'):
    with pytest.raises(ValueError, match='grid item'):
      tune.parse_grid([bad])


def test_set_path_keeps_integer_fields_and_names_unknown_keys():
  config = ml_collections.ConfigDict({'tracking': {'num_candidates': 9, 'size_lr': 0.5}})
  tune.set_path(config, 'tracking.num_candidates', 3.0)
  assert config.tracking.num_candidates == 3 and isinstance(config.tracking.num_candidates, int)
  tune.set_path(config, 'tracking.size_lr', 0.25)
  assert config.tracking.size_lr == 0.25
  with pytest.raises(ValueError, match='integer'):
    tune.set_path(config, 'tracking.num_candidates', 2.5)
  with pytest.raises(KeyError, match='tracking.nope'):
    tune.set_path(config, 'tracking.nope', 1.0)


def test_set_path_takes_0_and_1_for_boolean_fields():
  config = ml_collections.ConfigDict({'tracking': {'flag': False}})
  tune.set_path(config, 'tracking.flag', 1.0)
  assert config.tracking.flag is True
  tune.set_path(config, 'tracking.flag', 0.0)
  assert config.tracking.flag is False
  with pytest.raises(ValueError, match='boolean'):
    tune.set_path(config, 'tracking.flag', 0.5)


class _Oracle:
  """Returns the ground truth of the sequence it was made for."""

  def __init__(self, gt):
    self.gt, self.i = gt, 0

  def init(self, frame, box):
    self.i = 0

  def update(self, frame):
    self.i += 1
    return self.gt[self.i], 1.0


def test_evaluate_point_scores_an_oracle_perfectly():
  gt = np.array([[10, 10, 20, 30], [12, 11, 20, 30], [15, 12, 22, 28]], np.float64)
  frames = [np.zeros((64, 64, 3), np.uint8)] * 3
  out = tune.evaluate_point(lambda: _Oracle(gt), [('a', frames, gt, gt[0])])
  assert out['precision'] == 1.0
  # IoU 1 passes every threshold of the 21-point curve but the last (IoU > 1).
  assert out['auc'] == pytest.approx(20 / 21)


@pytest.mark.slow
def test_grid_search_applies_each_point(tmp_path):
  """min_score > 1 freezes the box at the init box: its AUC is computable by hand."""
  from spm_jax import config_file
  spm_alexnet = config_file.load_module('spm_alexnet')
  from spm_jax import models
  from spm_jax.data import synthetic
  synthetic.export_otb(str(tmp_path), num_sequences=2, num_frames=6, seed=5)
  dataset = datasets.otb_folder(tmp_path)
  config = spm_alexnet.get_config('runlocal')
  variables = models.init_variables(config, jax.random.key(0))
  results = tune.grid_search(config, variables, dataset, {'tracking.min_score': (0.0, 2.0)})
  assert [r['auc'] for r in results] == sorted((r['auc'] for r in results), reverse=True)
  frozen = next(r for r in results if r['point']['tracking.min_score'] == 2.0)
  for name in dataset.names:
    gt = dataset[name].gt
    constant = np.repeat(gt[:1], len(gt), axis=0)
    assert frozen['per_sequence'][name] == pytest.approx(metrics.success_auc(constant, gt),
                                                          abs=1e-6)
