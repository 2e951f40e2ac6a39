r"""How far a model's box regression corrects a wrong size (spm_jax/analysis/size_response.py).

Each frame's search region is centred on the previous frame's ground truth with its size
times each ``--factors`` value; prints, per factor, the median log size error of the step's
own estimate and the share of the offset it corrected (1: perfect, 0: the size is ignored)::

  python scripts/size_response.py --config configs/synthetic.py --checkpoint RUN \
      --dataset otb_folder --data_dir VAL_SPLIT --factors 0.85,1,1.15

Use a validation split: the numbers explain box drift, they are not a benchmark score.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax.analysis import size_response
from spm_jax.evaluation import datasets

config_flags.DEFINE_config_file('config', None, 'Model config file; default: the one saved with '
                                'the --checkpoint model.', lock_config=True)
flags.DEFINE_string('checkpoint', None, 'Training run or model folder.', required=True)
flags.DEFINE_enum('dataset', 'otb_folder', list(datasets.DATASETS), 'Benchmark layout.')
flags.DEFINE_string('data_dir', None, 'Benchmark folder.', required=True)
flags.DEFINE_list('factors', ['0.85', '1', '1.15'], 'Size factors applied to the previous GT.')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  from spm_jax import export
  from spm_jax.tracking import Tracker
  tracker = Tracker(*export.config_and_variables(FLAGS.config, FLAGS.checkpoint))
  dataset = datasets.load_dataset(FLAGS.dataset, FLAGS.data_dir)
  print('| factor | frames | median log size error | uncorrected (log f) | corrected share |')
  print('| --- | --- | --- | --- | --- |')
  for factor in (float(f) for f in FLAGS.factors):
    errors = [size_response.gt_guided_size_errors(tracker, seq, factor) for seq in dataset]
    s = size_response.size_response(errors, factor)
    print(f'| {factor:g} | {s["frames"]} | {s["median_error"]:+.4f} | {s["uncorrected"]:+.4f} | '
          f'{s["correction"]:.2f} |')


if __name__ == '__main__':
  cli.absl_run(main)
