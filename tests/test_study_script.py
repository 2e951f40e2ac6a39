"""The study sweep (spm_jax.analysis.study, scripts/study.py) over training seeds: names, commands,
and the seed tables' numbers."""

import statistics

import numpy as np
import pytest

from spm_jax.analysis import study as study_lib


@pytest.fixture(scope='module')
def study():
  """A sweep over training seeds 0, 1, 2 (nothing run)."""
  return study_lib.Study(out='/o', data_dir='/d', seeds=(0, 1, 2))


def test_seed_zero_keeps_the_plain_names(study):
  assert study_lib.seeded('spm_gt', 0) == 'spm_gt'
  assert study_lib.seeded('spm_gt', 2) == 'spm_gt_s2'


def test_commands_of_a_seeded_training_and_row(study):
  cmd = study.train_command('spm_gt', '/o/runs/spm_gt_s1', seed=1)
  assert '--config=configs/synthetic.py:variant=series_parallel,gt=True' in cmd
  assert '--config.seed=1' in cmd and '--workdir=/o/runs/spm_gt_s1' in cmd
  assert not any(c.startswith('--config.seed') for c in study.train_command('spm_gt', '/w'))
  ev = study.evaluate_command('/o', '/o/test', 'series_gt', seed=1)
  assert '--name=series_gt_s1' in ev and '--checkpoint=/o/runs/spm_gt_s1' in ev
  assert '--config=configs/synthetic.py:variant=series' in ev
  base = study.evaluate_command('/o', '/o/test', 'MIL')
  assert '--baseline=MIL' in base and '--name=MIL' in base


def _report(aucs):
  aucs = list(aucs)
  return {'success_auc': float(np.mean(aucs)),
          'per_sequence': {f'v{i}': {'success_auc': a} for i, a in enumerate(aucs)}}


def test_seed_tables_mean_sd_and_differences(study):
  rng = np.random.default_rng(0)
  csrt = rng.uniform(0.4, 0.8, size=10)
  runs = [csrt + d for d in (0.05, 0.02, 0.08)]  # three runs of sp_gt, each above CSRT
  reports = {'CSRT': _report(csrt), 'sp_gt': _report(runs[0]), 'sp_gt_s1': _report(runs[1]),
             'sp_gt_s2': _report(runs[2]), 'cm_only': _report(csrt - 0.1)}
  md = '\n'.join(study.seed_tables(reports))
  means = [float(np.mean(r)) for r in runs]
  row = next(line for line in md.splitlines() if line.startswith('| sp_gt |'))
  cells = [c.strip() for c in row.strip('|').split('|')]
  assert cells[1] == '3'
  assert cells[2] == ', '.join(f'{m:.3f}' for m in means)
  assert cells[3] == f'{statistics.mean(means):.3f}'
  assert cells[4] == f'{statistics.stdev(means):.3f}'
  line = next(x for x in md.splitlines() if x.startswith('| series-parallel + GT - CSRT |'))
  cells = [c.strip() for c in line.strip('|').split('|')]
  assert cells[1] == '3 / 1' and cells[2] == '+0.050'  # mean of +0.05, +0.02, +0.08
  low, high = (float(x) for x in cells[3].strip('[]').split(','))
  assert 0.02 - 1e-9 <= low < 0.05 < high <= 0.08 + 1e-9  # runs drawn with replacement
  assert cells[4] == '10 / 0'
  assert '| series-parallel + GT - CM only | 3 / 1 | +0.150 |' in md
  assert 'FM cross-correlation' not in md  # no runs of it


def test_no_seed_tables_with_single_runs(study):
  assert study.seed_tables({'sp_gt': _report([0.5, 0.6]), 'CSRT': _report([0.4, 0.7])}) == []
