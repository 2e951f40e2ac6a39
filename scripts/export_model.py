r"""Exports a training run's checkpoint as a self-contained model folder.

  python scripts/export_model.py --config configs/synthetic.py --workdir RUN \
      --out models/my_model [--step N] [--config.tracking.size_lr=0.3 ...]

or a model's tracking functions as StableHLO and / or ONNX for deployment::

  python scripts/export_model.py --format stablehlo,onnx [--model DIR] --out exported/default

``--model`` is a model folder or an embedded model's name (``default``,
``procedural``; default: the embedded default model); ``--config``
+ ``--workdir`` export a training run's checkpoint instead. Writes the files of
``spm_jax/deploy/exporter.py`` (``template.*``, ``step.*``, ``export.json``);
``spm_jax.deploy.runtime.load_tracker(OUT, backend='onnx')`` tracks with them.
ONNX needs the ``export`` extra (``pip install -e '.[export]'``).

Writes ``OUT/config.json`` (the whole config, tracking values included, so
``--config.tracking.*`` overrides tuned with ``scripts/tune.py`` travel with the
weights) and ``OUT/variables.msgpack`` (see ``spm_jax/export.py``). The
variables are checked against the config first. A model folder is what
``--checkpoint`` of ``scripts/track.py``, ``scripts/evaluate.py`` and the demo
take; the package ships ``spm_jax/assets/default`` and ``spm_jax/assets/procedural``
(``spm_jax/embedded_models.py``).
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax import export

config_flags.DEFINE_config_file('config', None, 'The run\'s config file.', lock_config=True)
flags.DEFINE_string('workdir', None, 'Training run folder (holding checkpoints/).')
flags.DEFINE_string('out', None, 'Model folder (or export folder) to write.', required=True)
flags.DEFINE_integer('step', None, 'Checkpoint step; default: the latest.')
flags.DEFINE_list('format', ['model'], 'model (config.json + variables.msgpack), or any of '
                  'stablehlo, onnx (the tracking functions, variables baked in).')
flags.DEFINE_string('model', None, 'With --format stablehlo/onnx: the model folder or embedded '
                    'model name to export (default: the embedded default model, unless '
                    '--workdir is given).')
FLAGS = flags.FLAGS


def _run_variables():
  """(config, variables) of --config + --workdir, checked."""
  if FLAGS.config is None or FLAGS.workdir is None:
    raise app.UsageError('--config and --workdir are required to export a training run.')
  from spm_jax.train import trainer
  variables = trainer.load_variables(FLAGS.workdir, step=FLAGS.step)
  export.check_variables(FLAGS.config, variables, source=f'checkpoint {FLAGS.workdir}')
  return FLAGS.config, variables


def _export_functions(formats):
  """--format stablehlo/onnx: the tracking functions of --model (or the run)."""
  from spm_jax.deploy import exporter
  from spm_jax.tracking import tracker
  if FLAGS.model and FLAGS.workdir:
    raise app.UsageError('give either --model or --config + --workdir, not both.')
  if FLAGS.workdir:
    config, variables = _run_variables()
  else:
    config, variables = export.load_checked(FLAGS.model or tracker.DEFAULT_MODEL_DIR)
  meta = exporter.export(config, variables, FLAGS.out, formats)
  for f in formats:
    print(f'{f}: {", ".join(meta["files"][f])} ({meta["export_seconds"][f]:.1f} s)')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  formats = list(dict.fromkeys(FLAGS.format))
  known = ('model', 'stablehlo', 'onnx')
  if not formats or any(f not in known for f in formats) or ('model' in formats and
                                                             len(formats) > 1):
    raise app.UsageError(f'--format must be model, or any of stablehlo, onnx; got {FLAGS.format}')
  cli.check_writable_folder(FLAGS.out, '--out')
  if formats != ['model']:
    _export_functions(formats)
  else:
    if FLAGS.model:
      raise app.UsageError('--model is for --format stablehlo/onnx; --format model exports '
                           '--workdir.')
    export.save_model(FLAGS.out, *_run_variables())
  size = sum(os.path.getsize(os.path.join(FLAGS.out, f)) for f in os.listdir(FLAGS.out))
  print(f'wrote {os.path.abspath(FLAGS.out)} ({size / 2**20:.1f} MiB)')


if __name__ == '__main__':
  cli.absl_run(main)
