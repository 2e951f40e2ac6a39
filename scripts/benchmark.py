r"""Speed of SPM-Tracker on this machine: one table, and the figures as JSON.

::

  python scripts/benchmark.py                                   # paper config
  python scripts/benchmark.py --quick --json /tmp/bench.json    # runlocal, < 1 min on 2 cores
  python scripts/benchmark.py --config configs/spm_alexnet.py:runlocal --frames 300
  python scripts/benchmark.py --quick --exported --notrain      # + StableHLO / ONNX rows

The rows (latency, FLOPs, % of peak, Tracker.update, MultiTracker, training
pairs/s, input pipeline): :mod:`spm_jax.benchmark`; ``docs/benchmarks.md``
records the results.
"""

import json
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli

config_flags.DEFINE_config_file(
    'config', None, 'Config file[:arg] (default configs/spm_alexnet.py; '
    'configs/spm_alexnet.py:runlocal with --quick).', lock_config=True)
flags.DEFINE_bool('quick', False,
                  'runlocal config, fewer frames and rounds: < 1 minute on 2 cores.')
flags.DEFINE_integer('frames', None,
                     'Timed frames per step variant (default 200, 30 with --quick).')
flags.DEFINE_integer('rounds', None,
                     'Timed rounds of the multi-object rows (default 3, 2 with --quick).')
flags.DEFINE_bool('train', True, 'Measure training pairs/s (--notrain: skip the training row).')
flags.DEFINE_bool('exported', False, 'Add the StableHLO / ONNX export rows (needs the export '
                  'extra; about a minute of export).')
flags.DEFINE_string('json', None, 'Write the figures to this JSON file.')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  for flag in ('frames', 'rounds'):
    if FLAGS[flag].value is not None and FLAGS[flag].value < 1:
      raise cli.UserError(f'--{flag} must be positive, got {FLAGS[flag].value}')
  from spm_jax import benchmark  # pylint: disable=import-outside-toplevel
  if FLAGS['config'].present:
    spec, config = config_flags.get_config_filename(FLAGS['config']), FLAGS.config
  else:
    spec = f'{benchmark.DEFAULT_CONFIG}:runlocal' if FLAGS.quick else benchmark.DEFAULT_CONFIG
    config = benchmark.load_config(spec)
  results = benchmark.run(config, spec, quick=FLAGS.quick, frames=FLAGS.frames,
                          rounds=FLAGS.rounds, train=FLAGS.train, exported=FLAGS.exported)
  print(benchmark.format_table(results))
  print(f'({results["total_s"]:.0f} s)')
  if FLAGS.json:
    with open(FLAGS.json, 'w', encoding='utf-8') as f:
      json.dump(results, f, indent=2, sort_keys=True)
  bad = benchmark.non_finite(results)
  if bad:
    print(f'warning: non-finite figures: {bad}', file=sys.stderr)


if __name__ == '__main__':
  cli.absl_run(main)
