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
