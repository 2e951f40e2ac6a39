r"""The accuracy study on the procedural videos: every ablation of the paper, one sweep.

::

  python scripts/study.py --out /tmp/study --data_dir /tmp/tfds [--quick] [--only=spm_gt,CSRT]
      [--seeds=0,1,2] [--contrib_python=PYTHON]

Builds the held-out test split, trains each model with ``scripts/train.py``,
evaluates each row with ``scripts/evaluate.py``, measures the CM candidate
recall and writes ``OUT/tables.md`` and ``OUT/plots/*.png``; re-running skips
what is done. The steps, rows and trainings: :mod:`spm_jax.analysis.study`.
"""

from absl import app
from absl import flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

flags.DEFINE_string('out', None, 'Study folder (test split, runs, results, tables).',
                    required=True)
flags.DEFINE_string('data_dir', None, 'tfds folder for the training videos.', required=True)
flags.DEFINE_bool('quick', False, 'Smoke run: 10 test sequences, 40 training steps.')
flags.DEFINE_list('only', None, 'Trainings and rows to run (default: all).')
flags.DEFINE_integer('num_sequences', 50, 'Test sequences.')
flags.DEFINE_integer('num_frames', 100, 'Frames per test sequence.')
flags.DEFINE_integer('test_seed', 1000, 'Seed of the test split (training uses 0).')
flags.DEFINE_list('train_overrides', [], 'Extra "--config.x=y" flags for every training.')
flags.DEFINE_string('contrib_python', None,
                    'Python whose cv2 is opencv-contrib, for the CSRT and KCF baselines.')
flags.DEFINE_bool('recall', True, 'Measure the CM candidate recall (fig. 6b).')
flags.DEFINE_list('seeds', ['0'], 'Training seeds (config.seed): every training and its rows run '
                  'once per seed; seed 0 keeps the plain names, seed s the suffix "_s<s>".')
FLAGS = flags.FLAGS


def study_from_flags():
  """The :class:`spm_jax.analysis.study.Study` of the parsed flags."""
  from spm_jax.analysis import study  # pylint: disable=import-outside-toplevel
  try:
    seeds = tuple(int(s) for s in FLAGS.seeds)
  except ValueError as e:
    raise cli.UserError(f'--seeds must be integers, got {",".join(FLAGS.seeds)}') from e
  return study.Study(out=FLAGS.out, data_dir=FLAGS.data_dir, quick=FLAGS.quick, only=FLAGS.only,
                     num_sequences=FLAGS.num_sequences, num_frames=FLAGS.num_frames,
                     test_seed=FLAGS.test_seed, train_overrides=tuple(FLAGS.train_overrides),
                     contrib_python=FLAGS.contrib_python, recall=FLAGS.recall, seeds=seeds)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  print(study_from_flags().run())


if __name__ == '__main__':
  cli.absl_run(main)
