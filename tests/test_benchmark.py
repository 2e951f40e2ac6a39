"""scripts/benchmark.py end to end (--quick), and the speed rewrites against the plain ops.

Nothing here asserts a speed: timings depend on the machine and its load.
"""

import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax.models import cm_head, fm_head
from spm_jax.ops import conv as conv_ops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NHWC = jax.lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))  # as Flax passes


def _conv(x, w, strides, padding, groups=1):
  return jax.lax.conv_general_dilated(x, w, strides, padding, dimension_numbers=NHWC,
                                      feature_group_count=groups)


@pytest.mark.parametrize('shape, kernel, strides, padding, groups', [
    ((2, 20, 20, 8), (5, 5, 4, 12), (1, 1), [(2, 2), (2, 2)], 2),  # conv2-like, groups 2
    ((1, 9, 9, 6), (3, 3, 2, 9), (1, 1), 'SAME', 3),
    ((1, 15, 16, 8), (4, 4, 4, 8), (2, 2), [(1, 0), (2, 1)], 2),  # strided, uneven padding
])
def test_cpu_friendly_conv_matches_lax(shape, kernel, strides, padding, groups):
  x = jax.random.normal(jax.random.key(0), shape)
  w = jax.random.normal(jax.random.key(1), kernel)
  want = _conv(x, w, strides, padding, groups)
  got = conv_ops.cpu_friendly_conv(x, w, strides, padding, feature_group_count=groups,
                                   dimension_numbers=NHWC)
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('shape, kernel, padding', [
    ((2, 41, 40, 3), (11, 11, 3, 24), [(5, 5), (5, 5)]),  # runlocal conv1
    ((1, 30, 31, 3), (4, 4, 3, 8), [(1, 0), (2, 1)]),  # even kernel, uneven padding
])
def test_space_to_depth_conv_matches_strided_conv(shape, kernel, padding):
  x = jax.random.normal(jax.random.key(0), shape)
  w = jax.random.normal(jax.random.key(1), kernel)
  want = _conv(x, w, (2, 2), padding)
  got = conv_ops.space_to_depth_conv(x, w, tuple(map(tuple, padding)))
  assert got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize('faster', [True, False])
def test_cpu_friendly_conv1_takes_either_lowering(monkeypatch, faster):
  # conv1 goes through space-to-depth only where that is the faster lowering;
  # the sums are the strided conv's either way.
  calls = []
  monkeypatch.setattr(conv_ops, 'space_to_depth_is_faster', lambda: faster)
  real = conv_ops.space_to_depth_conv
  monkeypatch.setattr(conv_ops, 'space_to_depth_conv', lambda *a: calls.append(1) or real(*a))
  x = jax.random.normal(jax.random.key(0), (1, 41, 41, 3))
  w = jax.random.normal(jax.random.key(1), (11, 11, 3, 24))
  got = conv_ops.cpu_friendly_conv(x, w, (2, 2), [(5, 5), (5, 5)], dimension_numbers=NHWC)
  np.testing.assert_allclose(got, _conv(x, w, (2, 2), [(5, 5), (5, 5)]), rtol=1e-5, atol=1e-4)
  assert len(calls) == (1 if faster else 0)


def test_conv_same_by_taps_matches_padded_conv():
  x = jax.random.normal(jax.random.key(0), (3, 6, 6, 10))
  for k in (1, 3, 5):
    w = jax.random.normal(jax.random.key(k), (k, k, 10, 7))
    np.testing.assert_allclose(fm_head.conv_same_by_taps(x, w), _conv(x, w, (1, 1), 'SAME'),
                               rtol=1e-5, atol=1e-4)


def test_batched_xcorr_matches_vmap():
  s = jax.random.normal(jax.random.key(0), (3, 9, 9, 4))
  k = jax.random.normal(jax.random.key(1), (3, 4, 4, 4, 6))
  want = jax.vmap(cm_head.xcorr)(s, k)
  np.testing.assert_allclose(cm_head.batched_xcorr(s, k), want, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(cm_head.batched_xcorr(s[:1], k[:1]), want[:1], rtol=1e-5, atol=1e-5)


REQUIRED = ('cm_step_ms', 'spm_step_ms', 'fm_overhead_ratio', 'peak_gflops', 'spm_gflops',
            'multi64_speedup')
POSITIVE = REQUIRED + (
    'cm_step_p90_ms', 'spm_step_p90_ms', 'cm_compile_s', 'spm_compile_s', 'cm_gflop_per_frame',
    'spm_gflop_per_frame', 'cm_gflops', 'matmul_gflops', 'conv_gflops', 'tracker_update_ms',
    'multi1_object_fps', 'multi8_object_fps', 'multi64_object_fps', 'sequential64_object_fps',
    'embedded_default_update_ms', 'embedded_procedural_update_ms')


@pytest.mark.slow
def test_quick_benchmark_writes_the_figures(tmp_path):
  out = tmp_path / 'bench.json'
  proc = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'benchmark.py'), '--quick',
                         '--frames', '10', '--rounds', '1', '--json', str(out)],
                        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert '| FM overhead (SPM / CM step)' in proc.stdout  # the table
  figures = json.loads(out.read_text())
  for key in POSITIVE:
    assert isinstance(figures[key], float), key
    assert math.isfinite(figures[key]) and figures[key] > 0, (key, figures[key])
  assert figures['frames'] == 10 and figures['rounds'] == 1
  assert figures['config'].endswith(':runlocal')
  # Optional rows: either a figure or the reason they were skipped.
  for key, reason in (('train_pairs_per_s_tiny', 'training (configs/synthetic.py:runlocal)'),
                      ('pipeline_batches_per_s', 'input pipeline')):
    if key in figures:
      assert math.isfinite(figures[key]) and figures[key] > 0
    else:
      assert reason in figures['skipped']
  np.testing.assert_allclose(figures['fm_overhead_ratio'],
                             figures['spm_step_ms'] / figures['cm_step_ms'], rtol=1e-9)
  np.testing.assert_allclose(figures['multi64_speedup'], figures['multi64_object_fps']
                             / figures['sequential64_object_fps'], rtol=1e-9)
