"""scripts/train.py and scripts/export_model.py from the command line: a run that resumes
where it stopped, then its export with a tracking override."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from spm_jax.train import metrics as metrics_lib
from spm_jax.train import trainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run_cli(workdir, *overrides):
  cmd = [sys.executable, os.path.join(ROOT, 'scripts', 'train.py'),
         '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
         '--workdir', workdir, '--config.input_kind=fake', *overrides]
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  return subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=600,
                        check=False)


@pytest.mark.slow
def test_command_line_trains_and_resumes(tmp_path):
  workdir = str(tmp_path / 'cli')
  r = _run_cli(workdir, '--config.total_steps=2')
  assert r.returncode == 0, r.stderr[-3000:]
  r = _run_cli(workdir, '--config.total_steps=3')
  assert r.returncode == 0, r.stderr[-3000:]
  assert 'resumed from step 2' in r.stderr
  records = metrics_lib.read_jsonl(os.path.join(workdir, 'metrics.jsonl'))
  assert [x['step'] for x in records] == [1, 2, 3]

  # scripts/export_model.py turns the run into a model folder with a tracking override.
  out = str(tmp_path / 'model')
  cmd = [sys.executable, os.path.join(ROOT, 'scripts', 'export_model.py'),
         '--config', os.path.join(ROOT, 'configs', 'synthetic.py') + ':runlocal',
         '--workdir', workdir, '--out', out, '--config.tracking.size_lr=0.25']
  r = subprocess.run(cmd, cwd=str(ROOT), env=dict(os.environ, JAX_PLATFORMS='cpu'),
                     capture_output=True, text=True, timeout=600, check=False)
  assert r.returncode == 0, r.stderr[-3000:]
  from spm_jax import export
  config, variables = export.load_checked(out)
  assert config.tracking.size_lr == 0.25
  latest = trainer.load_variables(workdir)
  exported = jax.tree_util.tree_leaves_with_path(variables['params'])
  trained = jax.tree_util.tree_leaves(latest['params'])
  assert len(exported) == len(trained)
  for (path, a), b in zip(exported, trained):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=str(path))
