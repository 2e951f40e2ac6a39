"""scripts/evaluate.py (OpenCV baseline path) and scripts/compare.py end to end."""

import importlib.util
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _make_otb(root, n_seqs=2, n_frames=6):
  for s in range(n_seqs):
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
