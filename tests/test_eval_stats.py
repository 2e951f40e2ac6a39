"""Paired bootstrap of per-sequence scores, against hand-computed cases."""

import numpy as np
import pytest

from spm_jax.evaluation import stats


def test_constant_difference_has_a_point_interval():
  a = np.array([0.5, 0.7, 0.2, 0.9])
  out = stats.paired_bootstrap(a, a - 0.1)
  np.testing.assert_allclose([out['diff'], out['low'], out['high']], 0.1, atol=1e-12)
  assert (out['wins'], out['losses'], out['n']) == (4, 0, 4)


def test_two_point_differences_match_the_binomial_interval():
  """d = +1 on half the sequences, -1 on the rest: the resampled mean is
  (2 * Binomial(n, 1/2) - n) / n, whose 2.5 / 97.5 % points are known exactly."""
  n = 40
  d = np.where(np.arange(n) < n // 2, 1.0, -1.0)
  out = stats.paired_bootstrap(d, np.zeros(n), num_resamples=40_000, seed=1)
  assert out['diff'] == 0.0 and (out['wins'], out['losses']) == (20, 20)
  # Binomial(40, 1/2): P(X <= 13) = 0.0192, P(X <= 14) = 0.0403 -> 2.5 % point 14,
  # i.e. mean (2 * 14 - 40) / 40 = -0.3; symmetric upper point +0.3.
  assert out['low'] == pytest.approx(-0.3, abs=0.051)
  assert out['high'] == pytest.approx(0.3, abs=0.051)


def test_reproducible_and_order_of_arguments():
  rng = np.random.default_rng(0)
  a, b = rng.uniform(size=30), rng.uniform(size=30)
  ab, ab2, ba = (stats.paired_bootstrap(a, b, seed=3), stats.paired_bootstrap(a, b, seed=3),
                 stats.paired_bootstrap(b, a, seed=3))
  assert ab == ab2
  np.testing.assert_allclose([ab['diff'], ab['low'], ab['high']],
                             [-ba['diff'], -ba['high'], -ba['low']], atol=1e-12)


def test_compare_reports_pairs_by_sequence_name():
  ra = {'per_sequence': {'x': {'success_auc': 0.9}, 'y': {'success_auc': 0.5},
                         'z': {'success_auc': 0.1}}}
  rb = {'per_sequence': {'y': {'success_auc': 0.4}, 'x': {'success_auc': 0.6}}}
  out = stats.compare_reports(ra, rb)  # z has no partner; x: +0.3, y: +0.1
  assert out['n'] == 2 and out['diff'] == pytest.approx(0.2)
  assert 0.1 - 1e-12 <= out['low'] <= out['high'] <= 0.3 + 1e-12


@pytest.mark.parametrize('a, b, message', [
    ([0.1, 0.2], [0.1], 'one shape'),
    ([0.1], [0.2], 'at least 2'),
    ([0.1, np.nan], [0.2, 0.3], 'finite'),
])
def test_bad_input_is_named(a, b, message):
  with pytest.raises(ValueError, match=message):
    stats.paired_bootstrap(a, b)


def test_runs_bootstrap_of_single_runs_is_the_paired_bootstrap():
  rng = np.random.default_rng(4)
  a, b = rng.uniform(size=25), rng.uniform(size=25)
  one = stats.runs_bootstrap(a, b, seed=7)
  ref = stats.paired_bootstrap(a, b, seed=7)
  for k in ('diff', 'low', 'high', 'wins', 'losses', 'n'):
    assert one[k] == pytest.approx(ref[k], abs=1e-12), k


def test_runs_bootstrap_sees_the_run_to_run_spread():
  """Runs of a are b + 0.1 and b + 0.3 on every video (no video noise): the drawn pair of runs
  averages to 0.1, 0.2 or 0.3 with probabilities 1/4, 1/2, 1/4, so the 95 % interval is
  [0.1, 0.3] -- where a bootstrap over the videos alone would say exactly 0.2."""
  b = np.linspace(0.2, 0.6, 30)
  out = stats.runs_bootstrap(np.stack([b + 0.1, b + 0.3]), b, num_resamples=4000)
  assert out['diff'] == pytest.approx(0.2)
  assert out['low'] == pytest.approx(0.1) and out['high'] == pytest.approx(0.3)
  np.testing.assert_allclose(out['run_means_a'], [b.mean() + 0.1, b.mean() + 0.3])
  assert (out['wins'], out['losses'], out['n']) == (30, 0, 30)


def test_runs_bootstrap_covers_the_true_difference():
  """Simulated study: per-video difficulty, run offsets ~ N(0, 0.03), true gap 0.02. The
  two-level interval should hold the gap in about 95 % of studies (binomial 2-sigma band for
  200 studies, allowing the percentile interval's known undercoverage at 3 runs)."""
  rng = np.random.default_rng(0)
  hits = 0
  for _ in range(200):
    video = rng.uniform(0.3, 0.8, size=40)
    a = video + 0.02 + rng.normal(0, 0.03, size=(3, 1)) + rng.normal(0, 0.05, size=(3, 40))
    b = video + rng.normal(0, 0.03, size=(3, 1)) + rng.normal(0, 0.05, size=(3, 40))
    out = stats.runs_bootstrap(a, b, num_resamples=1000, seed=int(rng.integers(1 << 30)))
    hits += out['low'] <= 0.02 <= out['high']
  assert 0.80 <= hits / 200 <= 0.99


def test_compare_runs_uses_the_sequences_every_run_has():
  def rep(**s):
    return {'per_sequence': {k: {'success_auc': v} for k, v in s.items()}}
  out = stats.compare_runs([rep(x=0.9, y=0.5), rep(x=0.7, y=0.5, z=0.0)], [rep(x=0.6, y=0.4)])
  # x: mean(0.9, 0.7) - 0.6 = 0.2; y: 0.5 - 0.4 = 0.1; z is not in every report.
  assert out['n'] == 2 and out['diff'] == pytest.approx(0.15)
  np.testing.assert_allclose(out['run_means_a'], [0.7, 0.6])


@pytest.mark.parametrize('a, b, message', [
    (np.zeros((2, 3)), np.zeros((1, 4)), 'same N sequences'),
    (np.zeros((2, 1)), np.zeros((1, 1)), 'at least 2'),
    (np.zeros((0, 3)), np.zeros((1, 3)), 'at least one run'),
    ([[0.1, np.nan]], [[0.2, 0.3]], 'finite'),
])
def test_runs_bootstrap_bad_input_is_named(a, b, message):
  with pytest.raises(ValueError, match=message):
    stats.runs_bootstrap(a, b)
