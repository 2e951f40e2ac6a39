"""Success and precision plots of several trackers (like the paper's fig. 7).

Inputs are ``report.evaluate_results`` outputs keyed by tracker name. Every plot
is saved as PNG and PDF; matplotlib runs on the Agg backend (no display).
"""

import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from spm_jax.evaluation import metrics  # pylint: disable=g-import-not-at-top,wrong-import-position

_STYLES = ['-', '--', '-.', ':']


def _save(fig, stem):
  os.makedirs(os.path.dirname(os.fspath(stem)) or '.', exist_ok=True)
  paths = []
  for ext in ('png', 'pdf'):
    path = f'{stem}.{ext}'
    fig.savefig(path, dpi=150, bbox_inches='tight')
    paths.append(path)
  plt.close(fig)
  return paths


def _curve_plot(reports, stem, curve_key, score_key, xs, xlabel, ylabel, title,
                score_fmt):
  names = sorted(reports, key=lambda n: -reports[n][score_key])
  fig, ax = plt.subplots(figsize=(5, 4))
  for i, name in enumerate(names):
    r = reports[name]
    ax.plot(xs, r[curve_key], _STYLES[(i // 10) % len(_STYLES)], linewidth=2,
            label=f'{name} [{score_fmt.format(r[score_key])}]')
  ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(xs[0], xs[-1]),
         ylim=(0, 1.0))
  ax.grid(True, linestyle=':')
  ax.legend(loc='lower left' if curve_key == 'success_curve' else 'lower right',
            fontsize=8)
  return _save(fig, stem)


def plot_success(reports, stem, title='Success plots of OPE'):
  """Success curves; legend 'name [AUC]'. Returns the PNG and PDF paths."""
  return _curve_plot(reports, stem, 'success_curve', 'success_auc',
                     metrics.SUCCESS_THRESHOLDS, 'Overlap threshold',
                     'Success rate', title, '{:.3f}')


def plot_precision(reports, stem, title='Precision plots of OPE'):
  """Precision curves; legend 'name [precision at 20 px]'."""
  return _curve_plot(reports, stem, 'precision_curve', 'precision_20',
                     metrics.PRECISION_THRESHOLDS, 'Location error threshold',
                     'Precision', title, '{:.3f}')


def plot_norm_precision(reports, stem,
                        title='Normalized precision plots of OPE'):
  """Normalized precision curves; legend 'name [mean of the curve]'."""
  return _curve_plot(reports, stem, 'norm_precision_curve',
                     'norm_precision_auc', metrics.NORM_PRECISION_THRESHOLDS,
                     'Normalized location error threshold', 'Precision', title,
                     '{:.3f}')


def plot_attributes(reports, out_dir, prefix=''):
  """Success and precision plots per attribute (OTB), when reports have them.

  Args:
    reports: tracker name -> report with 'by_attribute'.
    out_dir: output folder.
    prefix: file-name prefix.

  Returns:
    list of written paths (empty when no attributes).
  """
  tags = sorted({t for r in reports.values() for t in r.get('by_attribute', {})})
  paths = []
  for tag in tags:
    sub = {n: r['by_attribute'][tag] for n, r in reports.items()
           if tag in r.get('by_attribute', {})}
    count = next(iter(sub.values())).get('num_sequences', '?')
    paths += plot_success(sub, os.path.join(out_dir, f'{prefix}success_{tag}'),
                          f'Success plots of OPE - {tag} ({count})')
    paths += plot_precision(sub,
                            os.path.join(out_dir, f'{prefix}precision_{tag}'),
                            f'Precision plots of OPE - {tag} ({count})')
  return paths


def plot_all(reports, out_dir, dataset_name=''):
  """Success, precision, normalized precision and per-attribute plots.

  Returns:
    list of written PNG / PDF paths.
  """
  label = f' on {dataset_name}' if dataset_name else ''
  prefix = f'{dataset_name}_' if dataset_name else ''
  paths = plot_success(reports, os.path.join(out_dir, f'{prefix}success'),
                       f'Success plots of OPE{label}')
  paths += plot_precision(reports, os.path.join(out_dir, f'{prefix}precision'),
                          f'Precision plots of OPE{label}')
  paths += plot_norm_precision(
      reports, os.path.join(out_dir, f'{prefix}norm_precision'),
      f'Normalized precision plots of OPE{label}')
  paths += plot_attributes(reports, out_dir, prefix)
  return paths


def plot_eao_curves(curves, stem, length_range=None, title='Expected overlap'):
  """EAO curves (name -> [max_len]) with the averaging range shaded."""
  fig, ax = plt.subplots(figsize=(5, 4))
  for name, curve in curves.items():
    ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
  if length_range:
    ax.axvspan(*length_range, color='0.9')
  ax.set(xlabel='Sequence length', ylabel='Expected overlap', title=title,
         ylim=(0, 1))
  ax.legend(fontsize=8)
  return _save(fig, stem)
