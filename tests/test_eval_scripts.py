"""scripts/evaluate.py (OpenCV baseline path) and scripts/compare.py end to end."""

import importlib.util
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_otb(root, n_seqs=2, n_frames=6, first=0):
  for s in range(first, first + n_seqs):
    d = root / f'seq{s}'
    (d / 'img').mkdir(parents=True)
    with open(d / 'groundtruth_rect.txt', 'w') as f:
      for k in range(n_frames):
        img = np.zeros((48, 48, 3), np.uint8)
        img[::3] = 30
        img[10:26, 8 + k:24 + k] = (0, 200, 255)
        cv2.imwrite(str(d / 'img' / f'{k + 1:04d}.jpg'), img)
        f.write(f'{8 + k}\t10\t16\t16\n')


def _run(script, *args):
  return subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', script),
                         *args], capture_output=True, text=True, cwd=ROOT,
                        timeout=120)


def test_evaluate_baseline_then_compare(tmp_path):
  _make_otb(tmp_path / 'data')
  args = ['--baseline', 'MIL', '--dataset', 'otb_folder', '--data_dir',
          str(tmp_path / 'data'), '--out', str(tmp_path / 'res'),
          '--noprogress']
  p = _run('evaluate.py', *args)
  assert p.returncode == 0, p.stderr
  assert 'MIL' in p.stdout and 'AUC' in p.stdout
  res = tmp_path / 'res' / 'otb_folder' / 'MIL'
  assert (res / 'seq0.txt').is_file() and (res / 'times' / 'seq1_time.txt').is_file()
  mtime = os.path.getmtime(res / 'seq0.txt')
  assert _run('evaluate.py', *args).returncode == 0
  assert os.path.getmtime(res / 'seq0.txt') == mtime  # skipped

  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir',
           str(tmp_path / 'data'), '--results', f'{res},copy={res}',
           '--plots', str(tmp_path / 'plots'))
  assert p.returncode == 0, p.stderr
  lines = p.stdout.splitlines()
  assert any(l.startswith('MIL ') for l in lines)
  assert any(l.startswith('copy ') for l in lines)
  assert (tmp_path / 'plots' / 'otb_folder_success.pdf').is_file()
  assert (tmp_path / 'plots' / 'otb_folder_precision.png').is_file()


def test_compare_missing_result_folder_is_clear(tmp_path):
  _make_otb(tmp_path / 'data')
  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir', str(tmp_path / 'data'),
           '--results', f'x={tmp_path / "res" / "absent"}')
  assert p.returncode != 0
  assert 'x: no result folder' in p.stderr and 'absent' in p.stderr
  assert 'Traceback' not in p.stderr
  partial = tmp_path / 'res' / 'partial'
  partial.mkdir(parents=True)
  (partial / 'seq0.txt').write_text('8,10,16,16\n' * 6)  # seq1 never ran
  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir', str(tmp_path / 'data'),
           '--results', str(partial))
  assert p.returncode != 0 and 'Traceback' not in p.stderr
  assert "partial: no result for sequence 'seq1'" in p.stderr


def _write_boxes(folder, name, boxes):
  folder.mkdir(parents=True, exist_ok=True)
  np.savetxt(folder / f'{name}.txt', boxes, fmt='%g', delimiter=',')


def test_compare_pools_splits_averages_runs_and_differences(tmp_path):
  """Two splits pooled, a tracker with two runs against a reference, by hand.

  Each of 4 sequences has 6 frames; frame 0 is scored as the ground truth.
  A box equal to the ground truth passes 20 of the 21 overlap thresholds
  (IoU 1 > t for t < 1) and every precision threshold; one 60 px away (IoU 0,
  centre error 60 > 50 px) passes none. So a perfect video scores AUC p =
  20/21, P@20 1, a lost one (only frame 0 right) q = p/6, P@20 1/6. Run 1 is
  perfect everywhere, run 2 on seq0 and seq2 only; the reference is lost
  everywhere: the two runs' mean AUC is (3p + q)/4, its difference from the
  reference 3(p - q)/4, better on all 4 videos. Box statistics: run 1 is on
  the target in all 20 scored frames with IoU 1 and no size error, run 2 in
  10 of 20, the reference in none.
  """
  _make_otb(tmp_path / 'a', first=0)
  _make_otb(tmp_path / 'b', first=2)
  gt = np.array([[8 + k, 10, 16, 16] for k in range(6)], np.float64)
  lost = gt + [60, 0, 0, 0]
  lost[0] = gt[0]
  for s in range(4):
    split = 'a' if s < 2 else 'b'
    _write_boxes(tmp_path / f'run1_{split}', f'seq{s}', gt)
    _write_boxes(tmp_path / f'run2_{split}', f'seq{s}', gt if s % 2 == 0 else lost)
    _write_boxes(tmp_path / f'ref_{split}', f'seq{s}', lost)
  res = lambda n: f'{tmp_path / (n + "_a")}+{tmp_path / (n + "_b")}'
  p = _run('compare.py', '--dataset', 'otb_folder',
           '--data_dir', f'{tmp_path / "a"},{tmp_path / "b"}',
           '--results', f'T={res("run1")},T={res("run2")},ref={res("ref")}',
           '--reference', 'ref', '--box_stats')
  assert p.returncode == 0, p.stderr
  p_auc, q_auc = 20 / 21, 20 / 21 / 6
  table, differences = p.stdout.split('Difference from ref')
  differences, boxes = differences.split('on target  IoU there')
  rows = {l.split()[0]: l.split() for l in table.splitlines()}
  assert '(4 sequences)' in p.stdout
  assert rows['T'][1:3] == ['(2', 'runs)']
  assert float(rows['T'][3]) == pytest.approx((3 * p_auc + q_auc) / 4, abs=1e-3)
  assert float(rows['T'][4]) == pytest.approx((3 + 1 / 6) / 4, abs=1e-3)
  assert float(rows['ref'][1]) == pytest.approx(q_auc, abs=1e-3)
  assert f'T: AUC of each run: {p_auc:.3f} {(p_auc + q_auc) / 2:.3f}' in p.stdout
  diff = next(l for l in differences.splitlines() if l.strip().startswith('T '))
  assert f'AUC {3 * (p_auc - q_auc) / 4:+.3f} [' in diff and '4/0' in diff
  assert f'Prec@20 {3 * (1 - 1 / 6) / 4:+.3f} [' in diff
  rows = {' '.join(l.split()[:3]): l.split()[3:] for l in boxes.splitlines()[1:]}
  assert rows['T run 1'] == ['100.0', '%', '1.000'] + ['+0.000'] * 5
  assert rows['T run 2'] == ['50.0', '%', '1.000'] + ['+0.000'] * 5
  assert rows['ref 0.0 %'][:1] == ['nan']


def test_compare_bad_pooling_is_clear(tmp_path):
  _make_otb(tmp_path / 'a')
  _make_otb(tmp_path / 'b')  # the same sequence names again
  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir',
           f'{tmp_path / "a"},{tmp_path / "b"}', '--results', str(tmp_path))
  assert p.returncode != 0 and 'Traceback' not in p.stderr
  assert "sequence 'seq0' is in both" in p.stderr
  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir', str(tmp_path / 'a'),
           '--results', f'x={tmp_path}', '--reference', 'CSRT')
  assert p.returncode != 0 and "--reference: no tracker named 'CSRT'" in p.stderr


def test_evaluate_missing_data_dir_is_clear(tmp_path):
  p = _run('evaluate.py', '--baseline', 'MIL', '--dataset', 'otb100',
           '--data_dir', str(tmp_path / 'nope'), '--noprogress')
  assert p.returncode != 0
  assert 'nope' in p.stderr and 'Expected layout' in p.stderr


def test_missing_checkpoint_is_clear_and_creates_nothing(tmp_path):
  spec = importlib.util.spec_from_file_location(
      'evaluate_script', os.path.join(ROOT, 'scripts', 'evaluate.py'))
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  missing = tmp_path / 'ckpt'
  with pytest.raises(FileNotFoundError, match='neither an exported model'):
    mod.load_variables(None, str(missing))
  assert not missing.exists()
  (missing / 'checkpoints').mkdir(parents=True)
  with pytest.raises(FileNotFoundError, match='no checkpoint in'):
    mod.load_variables(None, str(missing))


def test_model_config_is_used_without_config_flag(tmp_path):
  """An exported model tracks with its own saved config (tracking values included)."""
  import json
  from spm_jax import embedded_models
  from spm_jax import export
  config, variables = export.config_and_variables(None, 'procedural')
  with open(os.path.join(embedded_models.resolve('procedural'), 'config.json')) as f:
    saved = json.load(f)
  assert dict(config.tracking) == saved['tracking']
  assert config.model.search_size == saved['model']['search_size']
  assert 'backbone' in variables['params']
  # A training run holds no config: --config is asked for.
  (tmp_path / 'run' / 'checkpoints').mkdir(parents=True)
  with pytest.raises(ValueError, match='--config is needed'):
    export.config_and_variables(None, str(tmp_path / 'run'))

  _make_otb(tmp_path / 'data', n_seqs=1, n_frames=3)
  p = _run('evaluate.py', '--checkpoint', 'procedural', '--dataset', 'otb_folder',
           '--data_dir', str(tmp_path / 'data'), '--out', str(tmp_path / 'res'), '--noprogress')
  assert p.returncode == 0, p.stderr[-2000:]
  assert (tmp_path / 'res' / 'otb_folder' / 'SPM-JAX' / 'seq0.txt').is_file()
  p = _run('evaluate.py', '--dataset', 'otb_folder', '--data_dir', str(tmp_path / 'data'),
           '--out', str(tmp_path / 'res2'))
  assert p.returncode != 0 and '--config or --checkpoint' in p.stderr


def test_evaluate_and_compare_tre(tmp_path):
  _make_otb(tmp_path / 'data')
  p = _run('evaluate.py', '--baseline', 'MIL', '--dataset', 'otb_folder', '--data_dir',
           str(tmp_path / 'data'), '--out', str(tmp_path / 'res'), '--noprogress',
           '--protocol', 'tre', '--segments', '2')
  assert p.returncode == 0, p.stderr
  res = tmp_path / 'res' / 'otb_folder' / 'MIL'
  assert sorted(f.name for f in res.glob('*.txt')) == [
      'seq0@tre0.txt', 'seq0@tre1.txt', 'seq1@tre0.txt', 'seq1@tre1.txt']
  assert len(np.loadtxt(res / 'seq1@tre1.txt', delimiter=',')) == 3  # frames 4..6
  p = _run('compare.py', '--dataset', 'otb_folder', '--data_dir', str(tmp_path / 'data'),
           '--protocol', 'tre', '--segments', '2', '--results', f'{res},copy={res}',
           '--reference', 'MIL')
  assert p.returncode == 0, p.stderr
  assert '(4 sequences)' in p.stdout and '0/0' in p.stdout  # 2 videos, no difference
