r"""Why SPM-Tracker is off the target on procedural videos (spm_jax/analysis/choices.py).

Runs the model over a procedural split (``python -m spm_jax.data.synthetic``), then prints
where it is when it is off the target (``failures``) and, for the frames on another object
while the target is visible, which part of the tracking step put it there: the target was
not among the K candidates, scored lower than the other object, or lost to the window and
size-change penalty::

  python scripts/explain_failures.py --config configs/synthetic.py --checkpoint RUN \
      --data_dir VAL_SPLIT

Overrides go through the config as usual (``--config.tracking.window_influence=0.25``).
It also prints the run's success AUC, and ``--out DIR`` writes its result files as
``scripts/evaluate.py`` does (``DIR/otb_folder/NAME``) for ``scripts/compare.py``.
"""

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from ml_collections import config_flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax.analysis import choices
from spm_jax.analysis import failures
from spm_jax.evaluation import datasets
from spm_jax.evaluation import metrics
from spm_jax.evaluation import results

config_flags.DEFINE_config_file('config', None, 'Model config file.', lock_config=True)
flags.DEFINE_string('checkpoint', None, 'Training run or model folder.', required=True)
flags.DEFINE_string('data_dir', None, 'Procedural split in the OTB layout.', required=True)
flags.DEFINE_string('name', 'SPM', 'Row name in the tables.')
flags.DEFINE_string('out', None, 'Also write the result files under OUT/otb_folder/NAME.')
flags.DEFINE_float('candidate_iou', 0.5, 'IoU above which a candidate is on the target.')
flags.mark_flag_as_required('config')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  from spm_jax import export
  from spm_jax.tracking import Tracker
  if FLAGS.config.model.variant == 'cm_only':
    raise app.UsageError('variant=cm_only has no FM candidates to explain')
  if FLAGS.out:
    cli.check_writable_folder(os.path.join(FLAGS.out, 'otb_folder', FLAGS.name), '--out')
  tracker = Tracker(FLAGS.config, export.load_for_config(FLAGS.checkpoint, FLAGS.config))
  outcomes, causes, aucs = [], [], []
  for seq in datasets.load_dataset('otb_folder', FLAGS.data_dir):
    objects, categories, visible = failures.sequence_objects(seq)
    record = choices.record_outputs(tracker, seq)
    aucs.append(metrics.success_auc(record['boxes'], seq.gt))
    if FLAGS.out:
      results.write_result(os.path.join(FLAGS.out, 'otb_folder', FLAGS.name), seq.name,
                           record['boxes'], record['times'])
    codes = failures.frame_outcomes(record['boxes'], objects, categories, visible)
    outcomes.append(codes)
    causes.append(choices.frame_causes(record, objects[:, 0], codes, visible,
                                       FLAGS.candidate_iou))
  print(f'{FLAGS.name}: success AUC {sum(aucs) / len(aucs):.3f} on {len(aucs)} sequences')
  print(failures.format_table({FLAGS.name: failures.outcome_shares(outcomes)}))
  print()
  print('On another object with the target visible, because the target was:')
  print(choices.format_table({FLAGS.name: choices.cause_counts(causes)}))


if __name__ == '__main__':
  cli.absl_run(main)
