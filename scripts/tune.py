r"""Grid search of the tracking hyper-parameters on a validation split.

  python scripts/tune.py --config configs/synthetic.py --checkpoint RUN_OR_MODEL \
      --data_dir VAL_SPLIT --dataset otb_folder \
      --grid tracking.size_lr=0.1,0.3,0.5 --grid tracking.window_influence=0.3,0.5 \
      --json tune.json

Prints one row per grid point (best mean success AUC first) and writes them as
JSON. Put the chosen values into the config (each with a comment saying it was
tuned, on which split); never tune on the test split. See
``spm_jax/analysis/tune.py``.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import json

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax import export
from spm_jax.analysis import tune
from spm_jax.evaluation import datasets
from spm_jax.evaluation import protocols

config_flags.DEFINE_config_file('config', None, 'Model config file; default: the one saved with '
                                'the --checkpoint model.', lock_config=True)
flags.DEFINE_string('checkpoint', None, 'Exported model folder or training workdir.',
                    required=True)
flags.DEFINE_enum('dataset', 'otb_folder', list(datasets.DATASETS), 'Validation benchmark.')
flags.DEFINE_string('data_dir', None, 'Validation split folder.', required=True)
flags.DEFINE_enum('protocol', 'ope', protocols.PROTOCOLS, 'ope: one run a video; tre / sre: '
                  'OTB\'s temporal / spatial robustness runs, averaged per video.')
flags.DEFINE_integer('segments', 20, 'TRE: starts a video (OTB: 20).', lower_bound=1)
flags.DEFINE_multi_string('grid', [], '"section.key=v1,v2,..." (repeatable).')
flags.DEFINE_string('json', None, 'Write the ranked results here.')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  grid = tune.parse_grid(FLAGS.grid)
  config, variables = export.config_and_variables(FLAGS.config, FLAGS.checkpoint)
  dataset = protocols.derive(datasets.load_dataset(FLAGS.dataset, FLAGS.data_dir),
                             FLAGS.protocol, FLAGS.segments)

  def progress(i, total, point, result):
    print(f'[{i + 1}/{total}] {point}: AUC {result["auc"]:.3f}  P@20 {result["precision"]:.3f}',
          flush=True)

  results = tune.grid_search(config, variables, dataset, grid, progress=progress)
  keys = list(grid)
  print('\n| ' + ' | '.join(keys) + ' | AUC | P@20 |')
  print('|' + ' --- |' * (len(keys) + 2))
  for r in results:
    print('| ' + ' | '.join(f'{r["point"][k]:g}' for k in keys)
          + f' | {r["auc"]:.3f} | {r["precision"]:.3f} |')
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump(results, f, indent=1)


if __name__ == '__main__':
  cli.absl_run(main)
