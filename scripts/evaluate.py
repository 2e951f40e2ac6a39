r"""Runs a tracker over a benchmark and scores it.

One-pass evaluation (OTB, UAV123, LaSOT, GOT-10k, TrackingNet) writes each
benchmark's result files under ``--out/<dataset>/<name>/`` (resumable: finished
sequences are skipped) and prints success AUC / precision when the benchmark's
ground truth is public; VOT datasets run the supervised reset protocol and print
accuracy, robustness and EAO::

  python scripts/evaluate.py --config configs/spm_alexnet.py \
      --checkpoint CKPT --dataset otb100 --data_dir ~/data/OTB100 --out results
  python scripts/evaluate.py --baseline CSRT --dataset otb100 \
      --data_dir ~/data/OTB100 --out results        # OpenCV baseline

See docs/evaluation.md.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: stop between frames, exit 130 (before the slow imports).

from spm_jax import embedded_models
from spm_jax.evaluation import baselines
from spm_jax.evaluation import datasets
from spm_jax.evaluation import ope
from spm_jax.evaluation import protocols
from spm_jax.evaluation import report
from spm_jax.evaluation import vot

config_flags.DEFINE_config_file('config', None, 'Model config file; default: the one saved with '
                                'the --checkpoint model (its tracking values).', lock_config=True)
flags.DEFINE_string('checkpoint', None, 'Trained checkpoint to evaluate: an exported model '
                    'folder, a training workdir or an embedded model name '
                    f'({embedded_models.names()}).')
flags.DEFINE_enum('dataset', 'otb100', list(datasets.DATASETS), 'Benchmark.')
flags.DEFINE_string('data_dir', None, 'Benchmark folder.', required=True)
flags.DEFINE_enum('protocol', 'ope', protocols.PROTOCOLS, 'ope: one run a video; tre / sre: '
                  'OTB\'s temporal / spatial robustness runs (spm_jax/evaluation/protocols.py).')
flags.DEFINE_integer('segments', 20, 'TRE: starts a video (OTB: 20).', lower_bound=1)
flags.DEFINE_string('out', 'results', 'Result root.')
flags.DEFINE_string('name', None, 'Tracker name (result sub-folder); default '
                    '"SPM-JAX" or the baseline name.')
flags.DEFINE_enum('baseline', None, list(baselines.OPENCV_TRACKERS),
                  'Run an OpenCV baseline instead of the model.')
flags.DEFINE_bool('overwrite', False, 'Re-run sequences that have results.')
flags.DEFINE_bool('progress', True, 'tqdm bars.')
FLAGS = flags.FLAGS

# Benchmarks whose test annotations are hidden: results go to their server.
_HIDDEN_GT = ('got10k_test', 'trackingnet')


def load_variables(config, checkpoint):
  """Model variables: from ``checkpoint``, or random with a warning.

  ``checkpoint`` is an exported model folder (``config.json`` +
  ``variables.msgpack``, see ``spm_jax.export``), an embedded model's name
  (``spm_jax.embedded_models``) or a training run's workdir (its latest orbax
  checkpoint). Variables are checked against ``config``: a
  checkpoint of another config is refused with the mismatched shapes.
  """
  import jax
  from spm_jax import export, models
  if checkpoint:
    return export.load_for_config(checkpoint, config)
  logging.warning('No --checkpoint: evaluating RANDOMLY INITIALISED weights; '
                  'the scores mean nothing.')
  return models.init_variables(config, jax.random.key(config.get('seed', 0)))


def build_tracker():
  """(tracker or tracker factory, name) from the flags."""
  if FLAGS.baseline:
    baselines.OpenCVTracker(FLAGS.baseline)  # Fails early when unavailable.
    return (lambda: baselines.OpenCVTracker(FLAGS.baseline)), FLAGS.baseline
  if FLAGS.config is None:
    if not FLAGS.checkpoint:
      raise app.UsageError('--config or --checkpoint is required unless --baseline is given.')
    from spm_jax import export
    config, variables = export.config_and_variables(None, FLAGS.checkpoint)
  else:
    config, variables = FLAGS.config, load_variables(FLAGS.config, FLAGS.checkpoint)
  from spm_jax.tracking import Tracker
  return Tracker(config, variables), 'SPM-JAX'


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  dataset = datasets.load_dataset(FLAGS.dataset, FLAGS.data_dir)
  if FLAGS.protocol != 'ope':
    if FLAGS.dataset.startswith('vot'):
      raise app.UsageError(f'--protocol {FLAGS.protocol}: VOT has its own protocol (resets); '
                           'use --protocol ope')
    dataset = protocols.derive(dataset, FLAGS.protocol, FLAGS.segments)
  name = FLAGS.name or (FLAGS.baseline or 'SPM-JAX')
  result_dir = os.path.join(FLAGS.out, FLAGS.dataset, name)
  cli.check_writable_folder(result_dir, '--out')  # Before any tracking.
  tracker, _ = build_tracker()

  if FLAGS.dataset.startswith('vot'):
    if callable(tracker) and not hasattr(tracker, 'update'):
      tracker = tracker()
    runs = vot.run_vot(tracker, dataset, result_dir, progress=FLAGS.progress)
    ar = vot.accuracy_robustness(runs)
    e = vot.eao(runs, dataset.year)
    print(f'{name} on {FLAGS.dataset}: EAO {e["eao"]:.3f}  accuracy '
          f'{ar["accuracy"]:.3f}  robustness {ar["robustness"]:.3f} '
          f'({ar["failures"]} failures)')
    return

  status = ope.run_ope(tracker, dataset, result_dir, overwrite=FLAGS.overwrite,
                       progress=FLAGS.progress)
  print(f'Results in {result_dir}')
  if status.unreadable:
    print(f'{status.num_unreadable} unreadable frames were skipped (their rows repeat the '
          f'previous box) in: {", ".join(sorted(status.unreadable))}')
  if FLAGS.dataset in _HIDDEN_GT:
    print('Ground truth of this split is hidden: submit the result files to the benchmark server.')
    return
  rep = report.evaluate_results(dataset, result_dir, attributes=dataset.attributes)
  print(report.format_table({name: rep}))


if __name__ == '__main__':
  cli.absl_run(main)
