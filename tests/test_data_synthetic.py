"""Tests of the procedural videos and their OTB exporter."""

import os
import time

import numpy as np

from spm_jax.data import synthetic


def test_shapes_and_determinism():
  t0 = time.perf_counter()
  a = synthetic.generate_sequence(3, num_frames=100)
  elapsed = time.perf_counter() - t0
  b = synthetic.generate_sequence(3, num_frames=100)
  c = synthetic.generate_sequence(4, num_frames=100)
  assert a.frames.shape == (100, 240, 320, 3) and a.frames.dtype == np.uint8
  n = a.categories.shape[0]
  assert a.boxes.shape == (100, n, 4) and a.visible.shape == (100, n)
  assert np.array_equal(a.frames, b.frames) and np.array_equal(a.boxes, b.boxes)
  assert not np.array_equal(a.frames, c.frames)
  assert elapsed < 2.0, elapsed
  # Several same-category distractors, and other categories.
  assert (a.categories == a.categories[0]).sum() >= 3
  assert (a.categories != a.categories[0]).any()
  # Boxes are integer-aligned and the target stays inside the frame.
  assert np.array_equal(a.boxes, np.round(a.boxes))
  x, y, w, h = a.boxes[:, 0].T
  assert (x >= -1).all() and (y >= -1).all() and (x + w <= 321).all() and (y + h <= 241).all()


def test_motion_scale_ratio_and_occlusion():
  seqs = [synthetic.generate_sequence(s, num_frames=100) for s in range(6)]
  for q in seqs:
    w, h = q.boxes[..., 2], q.boxes[..., 3]
    assert np.ptp(q.boxes[:, 0, 0]) > 5  # moves
    assert np.ptp(np.sqrt(w * h)[:, 0]) > 2  # scales
    assert np.ptp(np.log(h / w)[:, 0]) > 0.05  # changes aspect ratio
  frac = np.concatenate([q.visible_fraction.ravel() for q in seqs])
  assert (frac < 0.9).any() and (frac > 0.99).any()  # some occlusion happens


def test_target_pixels_match_box():
  q = synthetic.generate_sequence(0, num_frames=5, num_same_category=0, num_other=0, pan=0)
  x, y, w, h = q.boxes[0, 0].astype(int)
  shape_mask = synthetic._shape_mask(synthetic.SHAPES[q.categories[0]], w, h)
  # The shape touches all four box sides.
  assert shape_mask[0].any() and shape_mask[-1].any() and shape_mask[:, 0].any() and shape_mask[:, -1].any()


def _read_tree(root):
  out = {}
  for d, _, files in os.walk(root):
    for f in files:
      with open(os.path.join(d, f), 'rb') as fh:
        out[os.path.relpath(os.path.join(d, f), root)] = fh.read()
  return out


def test_otb_exporter_deterministic(tmp_path):
  args = ['--num_sequences', '2', '--num_frames', '6', '--seed', '7']
  synthetic.main(['--out', str(tmp_path / 'a')] + args)
  synthetic.main(['--out', str(tmp_path / 'b')] + args)
  a, b = _read_tree(tmp_path / 'a'), _read_tree(tmp_path / 'b')
  assert a == b
  assert 'synth_0001/img/0006.jpg' in a
  lines = a['synth_0000/groundtruth_rect.txt'].decode().split()
  assert len(lines) == 6
  seq = synthetic.generate_sequence(synthetic.sequence_seed(7, 0), num_frames=6)
  gt = np.asarray([[float(v) for v in line.split(',')] for line in lines])
  np.testing.assert_array_equal(gt[:, :2] - 1, seq.boxes[:, 0, :2])  # 1-based like OTB.
  np.testing.assert_array_equal(gt[:, 2:], seq.boxes[:, 0, 2:])
