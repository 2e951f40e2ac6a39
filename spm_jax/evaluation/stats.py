"""Paired comparisons of two trackers on the same sequences.

Two trackers run on the same videos differ by much less than their scores
vary from video to video, so their difference is judged per video: the paired
bootstrap resamples the videos (with replacement) and takes the mean of the
per-video differences of each resample; the interval is the percentile
interval of those means (Efron & Tibshirani, ch. 13). ``docs/results.md``
reports every ablation this way.
"""

import numpy as np


def paired_bootstrap(a, b, num_resamples=10_000, level=0.95, seed=0):
  """Mean of ``a - b`` over paired samples, with a bootstrap percentile interval.

  Args:
    a, b: [N] per-sequence scores of two trackers on the same N sequences
      (same order).
    num_resamples: bootstrap resamples of the N sequences.
    level: coverage of the interval.
    seed: NumPy generator seed (the interval is reproducible).

  Returns:
    dict ``diff`` (mean of a - b), ``low``, ``high`` (interval bounds),
    ``wins`` (sequences where a > b), ``losses`` (a < b), ``n``.

  Raises:
    ValueError: shapes differ, fewer than two sequences, or a score is not finite.
  """
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  if a.shape != b.shape or a.ndim != 1:
    raise ValueError(f'paired scores must be two [N] arrays of one shape, got {a.shape} and '
                     f'{b.shape}')
  if a.size < 2:
    raise ValueError(f'a paired bootstrap needs at least 2 sequences, got {a.size}')
  if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
    raise ValueError('paired scores must be finite')
  d = a - b
  rng = np.random.default_rng(seed)
  idx = rng.integers(0, d.size, size=(num_resamples, d.size))
  means = d[idx].mean(axis=1)
  tail = (1.0 - level) / 2.0 * 100.0
  low, high = np.percentile(means, [tail, 100.0 - tail])
  return {'diff': float(d.mean()), 'low': float(low), 'high': float(high),
          'wins': int(np.sum(d > 0)), 'losses': int(np.sum(d < 0)), 'n': int(d.size)}


def per_sequence(report, key='success_auc'):
  """``name -> score`` of one :func:`spm_jax.evaluation.report.evaluate_results` report.

  ``key``: a scalar of ``metrics.summarize`` ('success_auc', 'precision_20',
  'norm_precision_auc', ...).
  """
  return {name: float(s[key]) for name, s in report['per_sequence'].items()}


def compare_reports(report_a, report_b, key='success_auc', **kwargs):
  """:func:`paired_bootstrap` of two reports over the sequences both have."""
  a, b = per_sequence(report_a, key), per_sequence(report_b, key)
  names = sorted(set(a) & set(b))
  return paired_bootstrap([a[n] for n in names], [b[n] for n in names], **kwargs)
