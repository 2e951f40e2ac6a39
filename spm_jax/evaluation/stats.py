"""Paired comparisons of two trackers on the same sequences.

Two trackers run on the same videos differ by much less than their scores
vary from video to video, so their difference is judged per video: the paired
bootstrap resamples the videos (with replacement) and takes the mean of the
per-video differences of each resample; the interval is the percentile
interval of those means (Efron & Tibshirani, ch. 13). ``docs/results.md``
reports every ablation this way.
"""

import numpy as np

from spm_jax.evaluation import protocols


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


def runs_bootstrap(a_runs, b_runs, num_resamples=10_000, level=0.95, seed=0):
  """Difference of two trackers over training runs and videos, with a two-level bootstrap.

  Training a model twice (another seed, or only other float rounding) gives
  another model; a difference between two single runs mixes the methods'
  difference with that run-to-run noise, which :func:`paired_bootstrap` over
  the videos does not see. Here each resample draws the videos (with
  replacement, the same for both trackers: paired) and, independently for each
  tracker, its runs (with replacement); the statistic is the mean over the
  drawn runs and videos of ``a`` minus that of ``b``. A tracker that needs no
  training (CSRT) is one "run". With one run each it is
  :func:`paired_bootstrap` (same videos drawn for the same ``seed``).

  Args:
    a_runs: [Ra, N] per-sequence scores of Ra runs of tracker a (a [N] array
      is one run).
    b_runs: [Rb, N] the same for tracker b, same N sequences in the same order.
    num_resamples: bootstrap resamples.
    level: coverage of the interval.
    seed: NumPy generator seed.

  Returns:
    dict ``diff`` (mean of a over runs and videos minus that of b), ``low``,
    ``high``, ``run_means_a`` / ``run_means_b`` (each run's mean over the
    videos), ``wins`` / ``losses`` (videos where a's mean over its runs is
    above / below b's), ``n`` (videos).

  Raises:
    ValueError: the runs hold different numbers of sequences, fewer than two
      sequences, no run, or a score is not finite.
  """
  a = np.atleast_2d(np.asarray(a_runs, np.float64))
  b = np.atleast_2d(np.asarray(b_runs, np.float64))
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
    raise ValueError(f'runs must be [R, N] arrays with the same N sequences, got {a.shape} and '
                     f'{b.shape}')
  if a.shape[0] < 1 or b.shape[0] < 1:
    raise ValueError('each tracker needs at least one run')
  n = a.shape[1]
  if n < 2:
    raise ValueError(f'a paired bootstrap needs at least 2 sequences, got {n}')
  if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
    raise ValueError('paired scores must be finite')
  rng = np.random.default_rng(seed)
  videos = rng.integers(0, n, size=(num_resamples, n))  # first, as paired_bootstrap draws
  runs_a = rng.integers(0, a.shape[0], size=(num_resamples, a.shape[0]))
  runs_b = rng.integers(0, b.shape[0], size=(num_resamples, b.shape[0]))
  d = a[runs_a].mean(axis=1) - b[runs_b].mean(axis=1)  # [resamples, N]: drawn runs averaged
  means = np.take_along_axis(d, videos, axis=1).mean(axis=1)
  tail = (1.0 - level) / 2.0 * 100.0
  low, high = np.percentile(means, [tail, 100.0 - tail])
  per_video = a.mean(axis=0) - b.mean(axis=0)
  return {'diff': float(per_video.mean()), 'low': float(low), 'high': float(high),
          'run_means_a': a.mean(axis=1).tolist(), 'run_means_b': b.mean(axis=1).tolist(),
          'wins': int(np.sum(per_video > 0)), 'losses': int(np.sum(per_video < 0)), 'n': int(n)}


def per_sequence(report, key='success_auc'):
  """``name -> score`` of one :func:`spm_jax.evaluation.report.evaluate_results` report.

  ``key``: a scalar of ``metrics.summarize`` ('success_auc', 'precision_20',
  'norm_precision_auc', ...). The runs of one video under TRE or SRE
  (``VIDEO@tre{i}``, :mod:`spm_jax.evaluation.protocols`) are averaged into
  one score named ``VIDEO``: the bootstraps resample videos, not runs of a video.
  """
  return protocols.by_video({name: float(s[key]) for name, s in report['per_sequence'].items()})


def compare_reports(report_a, report_b, key='success_auc', **kwargs):
  """:func:`paired_bootstrap` of two reports over the sequences both have."""
  a, b = per_sequence(report_a, key), per_sequence(report_b, key)
  names = sorted(set(a) & set(b))
  return paired_bootstrap([a[n] for n in names], [b[n] for n in names], **kwargs)


def compare_runs(reports_a, reports_b, key='success_auc', **kwargs):
  """:func:`runs_bootstrap` of two lists of reports (one per training run).

  Uses the sequences that every report has.
  """
  scores_a = [per_sequence(r, key) for r in reports_a]
  scores_b = [per_sequence(r, key) for r in reports_b]
  names = sorted(set.intersection(*(set(s) for s in scores_a + scores_b)))
  return runs_bootstrap([[s[n] for n in names] for s in scores_a],
                        [[s[n] for n in names] for s in scores_b], **kwargs)
