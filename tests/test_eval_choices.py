"""spm_jax.analysis.choices by hand, and scripts/explain_failures.py end to end."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import export
from spm_jax import models
from spm_jax.analysis import choices
from spm_jax.analysis import failures
from spm_jax.data import synthetic
from spm_jax.evaluation import datasets
from spm_jax.evaluation import metrics
from spm_jax.evaluation import ope
from spm_jax.evaluation import results
from spm_jax.tracking import Tracker

synthetic_config = config_file.load_module('synthetic')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAR = [[100, 0, 10, 10], [200, 0, 10, 10], [300, 0, 10, 10]]


def test_frame_causes_by_hand():
  """Target [0, 0, 10, 10] in every frame, K = 3 candidates, candidate 0 chosen
  unless said otherwise.

  1 on a same-category object, no candidate on the target: the best one
    overlaps it at IoU 0.5 exactly, which is not above 0.5 -> not a candidate;
  2 a candidate on the target with a lower fused score -> scored lower;
  3 another-category object; only the FM box of candidate 2 is on the target
    (IoU 90 / 110), with the higher fused score -> window or penalty;
  4 the higher-scoring target candidate is invalid -> not a candidate;
  5 on the target, 6 target hidden -> not explained;
  7 the chosen candidate (1) is on the target, the box is not -> target chosen.
  """
  t_len, k = 8, 3
  prop = np.tile(np.array(FAR, float), (t_len, 1, 1))
  refined = prop.copy()
  fused = np.tile([0.6, 0.5, 0.4], (t_len, 1))
  valid = np.ones((t_len, k), bool)
  chosen = np.zeros(t_len, int)
  chosen[0] = -1
  prop[1, 2] = [0, 0, 10, 5]
  prop[2, 1] = [0, 0, 10, 10]
  prop[3, 2], refined[3, 2], fused[3, 2] = [5, 5, 10, 10], [1, 0, 10, 10], 0.95
  prop[4, 1], fused[4, 1], valid[4, 1] = [0, 0, 10, 10], 0.9, False
  prop[7, 1], chosen[7] = [0, 0, 10, 10], 1
  record = {'proposals': prop, 'refined': refined, 'fused_scores': fused, 'valid': valid,
            'chosen': chosen}
  target = np.tile([0.0, 0.0, 10.0, 10.0], (t_len, 1))
  outcomes = np.array([-1, 1, 1, 2, 1, 0, 1, 1])
  visible = np.array([1, 1, 1, 1, 1, 1, 0, 1], bool)
  causes = choices.frame_causes(record, target, outcomes, visible)
  np.testing.assert_array_equal(causes, [-1, 0, 1, 2, 0, -1, -1, 3])
  assert [choices.CAUSES[c] for c in causes[1:5]] == [
      'not a candidate', 'scored lower', 'window or penalty', 'not a candidate']
  # With a lower bar the IoU-0.5 candidate of frame 1 counts (and scores lower).
  assert choices.frame_causes(record, target, outcomes, visible, candidate_iou=0.4)[1] == 1
  counts = choices.cause_counts([causes, np.array([-1, 2])])
  assert counts == {'not a candidate': 2, 'scored lower': 1, 'window or penalty': 2,
                    'target chosen': 1}
  table = choices.format_table({'SPM': counts})
  assert table.splitlines()[1].split() == ['SPM', '6', '33.3%', '16.7%', '33.3%', '16.7%']


@pytest.fixture(scope='module')
def procedural_model(tmp_path_factory):
  root = tmp_path_factory.mktemp('choices')
  synthetic.export_otb(str(root / 'val'), num_sequences=1, num_frames=12, seed=2000)
  config = synthetic_config.get_config('runlocal')
  variables = models.init_variables(config, jax.random.key(0))
  export.save_model(str(root / 'model'), config, variables)
  return root, config, variables


def test_record_outputs_follow_the_one_pass_evaluation(procedural_model):
  root, config, variables = procedural_model
  seq = next(iter(datasets.load_dataset('otb_folder', str(root / 'val'))))
  record = choices.record_outputs(Tracker(config, variables), seq)
  boxes = ope.track_sequence(Tracker(config, variables), seq)[0]
  np.testing.assert_array_equal(record['boxes'], boxes)  # recording changes nothing
  k = config.tracking.num_candidates
  assert record['proposals'].shape == (12, k, 4) and record['chosen'][0] == -1
  assert not record['valid'][0].any()
  rows = np.arange(1, 12)
  assert np.all(record['valid'][rows, record['chosen'][1:]])  # the chosen one is valid


def test_script_counts_the_causes(procedural_model):
  root, config, variables = procedural_model
  seq = next(iter(datasets.load_dataset('otb_folder', str(root / 'val'))))
  objects, categories, visible = failures.load_objects(str(root / 'val' / seq.name), seq.gt,
                                                       seq.pixel_origin)
  record = choices.record_outputs(Tracker(config, variables), seq)
  outcomes = failures.frame_outcomes(record['boxes'], objects, categories, visible)
  causes = choices.frame_causes(record, objects[:, 0], outcomes, visible)
  p = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'explain_failures.py'),
                      '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
                      '--checkpoint', str(root / 'model'), '--data_dir', str(root / 'val'),
                      '--out', str(root / 'results')],
                     capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
  assert p.returncode == 0, p.stderr[-3000:]
  lines = p.stdout.splitlines()
  auc = metrics.success_auc(record['boxes'], seq.gt)
  assert lines[0] == f'SPM: success AUC {auc:.3f} on 1 sequences'
  written, _ = results.read_result(str(root / 'results' / 'otb_folder' / 'SPM'), seq.name)
  np.testing.assert_allclose(written, record['boxes'], atol=1e-3)
  assert lines[1].split()[1] == 'target' and lines[2].startswith('SPM')
  explained = int(np.sum(causes >= 0))
  assert lines[-1].split()[:2] == ['SPM', str(explained)], p.stdout
