r"""Compares trackers' result folders on one benchmark: a table and plots.

Result folders are in the benchmark's own format (``<seq>.txt`` per sequence,
or GOT-10k's ``<seq>/<seq>_001.txt``): ours from scripts/evaluate.py and other
trackers' published result files alike::

  python scripts/compare.py --dataset otb100 --data_dir ~/data/OTB100 \
      --results results/otb100/SPM-JAX,SiamRPN=~/published/SiamRPN \
      --plots plots/otb100

Prints success AUC, precision at 20 px, normalized precision and speed, best
first, and writes success / precision (and per-attribute) plots as PNG and PDF.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from spm_jax.evaluation import datasets
from spm_jax.evaluation import report

flags.DEFINE_enum('dataset', 'otb100', list(datasets.DATASETS), 'Benchmark.')
flags.DEFINE_string('data_dir', None, 'Benchmark folder.', required=True)
flags.DEFINE_list('results', None, 'Result folders, each "path" or "name=path".',
                  required=True)
flags.DEFINE_string('plots', None, 'Folder for the plots; none when unset.')
flags.DEFINE_enum('first_frame', 'gt', ['gt', 'keep', 'drop'],
                  'How frame 0 is scored (got10k: gt).')
FLAGS = flags.FLAGS


def parse_results(items):
  """['path', 'name=path'] -> {name: path}; name defaults to the folder name."""
  out = {}
  for item in items:
    name, sep, path = item.partition('=')
    if not sep:
      name, path = os.path.basename(os.path.normpath(item)), item
    out[name] = os.path.expanduser(path)
  return out


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  dataset = datasets.load_dataset(FLAGS.dataset, FLAGS.data_dir)
  reports = {}
  for name, path in parse_results(FLAGS.results).items():
    if not os.path.isdir(path):
      raise app.UsageError(f'--results: {name}: no result folder {path}')
    try:
      reports[name] = report.evaluate_results(
          dataset, path, first_frame=FLAGS.first_frame,
          attributes=dataset.attributes)
    except FileNotFoundError as e:  # an unfinished run: name the tracker and the sequence
      raise app.UsageError(f'--results: {name}: {e}') from e
  print(f'{FLAGS.dataset} ({len(dataset)} sequences)')
  print(report.format_table(reports))
  if FLAGS.plots:
    from spm_jax.evaluation import plots
    paths = plots.plot_all(reports, FLAGS.plots, FLAGS.dataset)
    print(f'{len(paths)} plot files in {FLAGS.plots}')


if __name__ == '__main__':
  app.run(main)
