r"""Exports a training run's checkpoint as a self-contained model folder.

  python scripts/export_model.py --config configs/synthetic.py --workdir RUN \
      --out models/my_model [--step N] [--config.tracking.size_lr=0.3 ...]

Writes ``OUT/config.json`` (the whole config, tracking values included, so
``--config.tracking.*`` overrides tuned with ``scripts/tune.py`` travel with the
weights) and ``OUT/variables.msgpack`` (see ``spm_jax/export.py``). The
variables are checked against the config first. A model folder is what
``--checkpoint`` of ``scripts/track.py``, ``scripts/evaluate.py`` and the demo
take; ``spm_jax/assets/default`` is the one the package ships.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax import export

config_flags.DEFINE_config_file('config', None, 'The run\'s config file.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Training run folder (holding checkpoints/).',
                    required=True)
flags.DEFINE_string('out', None, 'Model folder to write.', required=True)
flags.DEFINE_integer('step', None, 'Checkpoint step; default: the latest.')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if FLAGS.config is None:
    raise app.UsageError('--config is required.')
  cli.check_writable_folder(FLAGS.out, '--out')
  from spm_jax.train import trainer
  variables = trainer.load_variables(FLAGS.workdir, step=FLAGS.step)
  export.check_variables(FLAGS.config, variables, source=f'checkpoint {FLAGS.workdir}')
  export.save_model(FLAGS.out, FLAGS.config, variables)
  size = sum(os.path.getsize(os.path.join(FLAGS.out, f)) for f in os.listdir(FLAGS.out))
  print(f'wrote {os.path.abspath(FLAGS.out)} ({size / 2**20:.1f} MiB)')


if __name__ == '__main__':
  cli.absl_run(main)
