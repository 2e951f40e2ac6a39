r"""Compares trackers' result folders on one benchmark: a table, differences and plots.

Result folders are in the benchmark's own format (``<seq>.txt`` per sequence,
or GOT-10k's ``<seq>/<seq>_001.txt``): ours from scripts/evaluate.py and other
trackers' published result files alike::

  python scripts/compare.py --dataset otb100 --data_dir ~/data/OTB100 \
      --results results/otb100/SPM-JAX,SiamRPN=~/published/SiamRPN \
      --plots plots/otb100

Prints success AUC, precision at 20 px, normalized precision and speed, best
first, and writes success / precision (and per-attribute) plots as PNG and PDF.

Training runs and pooled splits: a name given several times (``SPM=run0,
SPM=run1``) is one tracker trained several times; its row is the mean over the
runs. Several ``--data_dir`` folders of one benchmark kind are pooled into one
benchmark (sequence names must differ); a result ``a+b`` reads each sequence
from the first of the folders ``a``, ``b`` that holds it (one run's results on
the pooled splits). ``--reference CSRT`` adds every other tracker's difference
from that one in success AUC and precision at 20 px, with 95 % intervals of a
two-level bootstrap over runs and videos (``stats.compare_runs``); ``--box_stats``
adds each run's frames on the target, IoU there and size drift
(``box_stats.box_statistics``); ``--failures`` (procedural videos only) where
each run is when it is off the target: on a same-category distractor, another
object, nothing while the target is hidden, or background
(``failures.frame_outcomes``)::

  python scripts/compare.py --dataset otb_folder --data_dir S/test,S/test_new \
      --results SPM=S/res_test/base_s0+S/res_new/base_s0,SPM=S/res_test/base_s1+S/res_new/base_s1,\
CSRT=S/res_test/CSRT+S/res_new/CSRT --reference CSRT --box_stats
"""

from absl import app
from absl import flags

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax.evaluation import comparison  # pylint: disable=g-import-not-at-top
from spm_jax.evaluation import datasets  # pylint: disable=g-import-not-at-top
from spm_jax.evaluation import protocols  # pylint: disable=g-import-not-at-top
from spm_jax.evaluation import report  # pylint: disable=g-import-not-at-top

flags.DEFINE_enum('dataset', 'otb100', list(datasets.DATASETS), 'Benchmark.')
flags.DEFINE_list('data_dir', None, 'Benchmark folder; several are pooled into one benchmark.',
                  required=True)
flags.DEFINE_list('results', None, 'Result folders, each "path" or "name=path"; a path may be '
                  '"a+b" (folders searched in turn); a repeated name is another training run.',
                  required=True)
flags.DEFINE_enum('protocol', 'ope', protocols.PROTOCOLS, 'The runs the result folders hold: '
                  'ope, or OTB\'s tre / sre (evaluate.py --protocol); differences are over videos.')
flags.DEFINE_integer('segments', 20, 'TRE: starts a video, as given to evaluate.py.',
                     lower_bound=1)
flags.DEFINE_string('reference', None, 'Tracker name: print the others\' differences from it.')
flags.DEFINE_bool('box_stats', False, 'Print each run\'s frames on the target (IoU > 0.3), '
                  'mean IoU there and median log size error by stretch of the video.')
flags.DEFINE_bool('failures', False, 'Print each run\'s share of frames on the target, on a '
                  'same-category distractor, on another object, on nothing while the target '
                  'is hidden, on background (procedural videos of spm_jax.data.synthetic).')
flags.DEFINE_string('plots', None, 'Folder for the plots; none when unset.')
flags.DEFINE_enum('first_frame', 'gt', ['gt', 'keep', 'drop'],
                  'How frame 0 is scored (got10k: gt).')
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  results = comparison.parse_results(FLAGS.results)
  if FLAGS.reference is not None and FLAGS.reference not in results:
    raise app.UsageError(f'--reference: no tracker named {FLAGS.reference!r} in --results '
                         f'({", ".join(results)})')
  sequences, attributes = comparison.load_pooled(FLAGS.dataset, FLAGS.data_dir, FLAGS.protocol,
                                                 FLAGS.segments)
  gts = {name: seq.gt for name, seq in sequences.items()}
  runs = {name: [comparison.score_run(name, folders, gts, attributes,
                                      first_frame=FLAGS.first_frame, box_stats=FLAGS.box_stats,
                                      keep_boxes=FLAGS.failures)
                 for folders in folders_of_runs]
          for name, folders_of_runs in results.items()}
  reports = comparison.tracker_reports(runs)
  print(f'{FLAGS.dataset} ({len(gts)} sequences)')
  print(report.format_table(reports))
  for name, reps in runs.items():
    if len(reps) > 1:
      print(f'{name}: AUC of each run: ' + ' '.join(f'{r["success_auc"]:.3f}' for r in reps))
  if FLAGS.reference is not None:
    print('\n'.join(comparison.format_differences(runs, FLAGS.reference)))
  if FLAGS.box_stats:
    print(comparison.box_stats_table(runs))
  if FLAGS.failures:
    from spm_jax.analysis import failures  # pylint: disable=import-outside-toplevel
    print(failures.format_table(comparison.failure_table(runs, sequences)))
  if FLAGS.plots:
    from spm_jax.evaluation import plots  # pylint: disable=import-outside-toplevel
    paths = plots.plot_all(reports, FLAGS.plots, FLAGS.dataset)
    print(f'{len(paths)} plot files in {FLAGS.plots}')


if __name__ == '__main__':
  cli.absl_run(main)
