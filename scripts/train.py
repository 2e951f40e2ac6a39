r"""Trains SPM-Tracker; resumes from the latest checkpoint in ``--workdir``.

::

  python scripts/train.py --config configs/synthetic.py --workdir /tmp/spm_synth \
      [--config.total_steps=N --config.batch_size=B ...]
  python scripts/train.py --config configs/synthetic.py:variant=cm_only,gt=False --workdir DIR
  python scripts/train.py --config ... --workdir DIR --multihost   # on every host

See docs/training.md. Ctrl-C finishes the step under way, writes a checkpoint
of it and exits with code 130; the same command resumes from there.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import logging as py_logging

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: finish and checkpoint the step under way, exit 130.

config_flags.DEFINE_config_file('config', None, 'Training config file.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Run folder: checkpoints, metrics, TensorBoard events.')
flags.DEFINE_bool('multihost', False, 'Call jax.distributed.initialize() first (one process a '
                  'host; coordinator from the environment, e.g. SLURM or Cloud TPU).')
flags.mark_flags_as_required(['config', 'workdir'])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  import jax
  if FLAGS.multihost:
    jax.distributed.initialize()
  from spm_jax.train import trainer
  py_logging.getLogger('spm_jax').setLevel(py_logging.INFO)
  logging.info('JAX process %d of %d, local devices: %s', jax.process_index(),
               jax.process_count(), jax.local_devices())
  out = trainer.train(FLAGS.config, FLAGS.workdir)
  logging.info('finished: %s', out['metrics'])


if __name__ == '__main__':
  cli.absl_run(main)
