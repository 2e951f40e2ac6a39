"""spm_jax.analysis.failures by hand, and compare.py --failures end to end."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from spm_jax.analysis import failures
from spm_jax.data import synthetic
from spm_jax.evaluation import datasets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _iou(a, b):
  """IoU of two x, y, w, h boxes, float64, no "+1"."""
  iw = max(min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]), 0.0)
  ih = max(min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]), 0.0)
  inter = iw * ih
  return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_frame_outcomes_by_hand():
  """Target (category 0) at the origin, a same-category distractor at x 100,
  another category at x 200, all 10 x 10, for 7 frames; the target is hidden
  in frames 4 and 6.

  Frame 0 is not scored; 1 on the target; 2 on the same-category distractor;
  3 on the other object; 4 on nothing, target hidden; 5 on nothing, target
  visible; 6 on the distractor while the target is hidden (a distractor
  counts before hiding). A box overlapping the target at IoU 0.5 and the
  distractor better is still on the target (frame 1 variant below).
  """
  objects = np.tile(np.array([[0, 0, 10, 10], [100, 0, 10, 10], [200, 0, 10, 10]], float),
                    (7, 1, 1))
  visible = np.array([1, 1, 1, 1, 0, 1, 0], bool)
  pred = np.array([[50, 50, 5, 5], [0, 0, 10, 10], [101, 0, 10, 10], [200, 1, 10, 10],
                   [50, 50, 5, 5], [50, 50, 5, 5], [100, 0, 10, 10]], float)
  out = failures.frame_outcomes(pred, objects, [0, 0, 3], visible)
  np.testing.assert_array_equal(out, [-1, 0, 1, 2, 3, 4, 1])
  assert [failures.OUTCOMES[i] for i in out[1:]] == [
      'target', 'same category', 'other category', 'target hidden', 'background',
      'same category']
  # IoU 0.5 with the target (a 10 x 5 box inside it) wins over anything else.
  objects[1, 1] = [0, 0, 10, 5]
  pred[1] = [0, 0, 10, 5]
  assert _iou(pred[1], objects[1, 0]) == 0.5
  assert failures.frame_outcomes(pred, objects, [0, 0, 3], visible)[1] == 0
  shares = failures.outcome_shares([out, np.array([-1, 0, 0])])
  assert shares == pytest.approx({'target': 3 / 8, 'same category': 2 / 8,
                                  'other category': 1 / 8, 'target hidden': 1 / 8,
                                  'background': 1 / 8})
  with pytest.raises(ValueError, match='expected'):
    failures.frame_outcomes(pred[:3], objects, [0, 0, 3], visible)


@pytest.fixture(scope='module')
def procedural(tmp_path_factory):
  root = tmp_path_factory.mktemp('synth')
  synthetic.export_otb(str(root), num_sequences=2, num_frames=8, seed=77)
  return root


def test_load_objects_from_meta_and_regenerated(procedural, tmp_path):
  seq = next(iter(datasets.load_dataset('otb_folder', str(procedural))))
  seq_dir = str(procedural / seq.name)
  objects, categories, visible = failures.load_objects(seq_dir, seq.gt, seq.pixel_origin)
  direct = synthetic.generate_sequence(synthetic.sequence_seed(77, 0), num_frames=8)
  np.testing.assert_array_equal(objects, direct.boxes + [1, 1, 0, 0])  # OTB is 1-based
  np.testing.assert_array_equal(categories, direct.categories)
  np.testing.assert_array_equal(visible, direct.visible[:, 0])
  # A folder written before meta.json held the objects: regenerated from the seed.
  meta_path = os.path.join(seq_dir, 'meta.json')
  with open(meta_path) as f:
    meta = json.load(f)
  del meta['objects']
  old = tmp_path / seq.name
  os.makedirs(old)
  os.symlink(os.path.join(seq_dir, 'img'), old / 'img')
  with open(old / 'meta.json', 'w') as f:
    json.dump(meta, f)
  again = failures.load_objects(str(old), seq.gt, seq.pixel_origin)
  np.testing.assert_array_equal(again[0], objects)
  with pytest.raises(ValueError, match='differ from the ground truth'):
    failures.load_objects(seq_dir, seq.gt + 1, seq.pixel_origin)
  with pytest.raises(FileNotFoundError, match='meta.json'):
    failures.load_objects(str(procedural), seq.gt, seq.pixel_origin)


def test_compare_failures_end_to_end(procedural, tmp_path):
  """A run boxing the target, and one boxing the first same-category
  distractor in every frame; the expected shares come from IoUs here."""
  for name in ('on_target', 'on_distractor'):
    os.makedirs(tmp_path / name)
  expected_target = []
  for i in range(2):
    name = synthetic.sequence_name(i)
    seq = synthetic.generate_sequence(synthetic.sequence_seed(77, i), num_frames=8)
    boxes = seq.boxes.astype(float) + [1, 1, 0, 0]
    np.savetxt(tmp_path / 'on_target' / f'{name}.txt', boxes[:, 0], fmt='%.1f', delimiter=',')
    np.savetxt(tmp_path / 'on_distractor' / f'{name}.txt', boxes[:, 1], fmt='%.1f',
               delimiter=',')
    assert seq.categories[1] == seq.categories[0]
    expected_target += [_iou(boxes[t, 1], boxes[t, 0]) > 0.3 for t in range(1, 8)]
  p = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'compare.py'),
                      '--dataset', 'otb_folder', '--data_dir', str(procedural), '--results',
                      f'{tmp_path / "on_target"},{tmp_path / "on_distractor"}', '--failures'],
                     capture_output=True, text=True, cwd=ROOT, timeout=120)
  assert p.returncode == 0, p.stderr
  rows = {l.split()[0]: l.split()[1:] for l in p.stdout.split('same category')[-1].splitlines()
          if l.strip()}
  assert rows['on_target'][0] == '100.0%'
  share = float(np.mean(expected_target))
  assert rows['on_distractor'][:2] == [f'{100 * share:.1f}%', f'{100 * (1 - share):.1f}%']
