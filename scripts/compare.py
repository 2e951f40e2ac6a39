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

# pylint: disable=g-import-not-at-top,wrong-import-position
import os
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from spm_jax import cli
cli.defer_interrupts()  # Ctrl-C: exit 130 without a traceback.

from spm_jax.evaluation import box_stats
from spm_jax.evaluation import datasets
from spm_jax.evaluation import failures
from spm_jax.evaluation import report
from spm_jax.evaluation import stats

flags.DEFINE_enum('dataset', 'otb100', list(datasets.DATASETS), 'Benchmark.')
flags.DEFINE_list('data_dir', None, 'Benchmark folder; several are pooled into one benchmark.',
                  required=True)
flags.DEFINE_list('results', None, 'Result folders, each "path" or "name=path"; a path may be '
                  '"a+b" (folders searched in turn); a repeated name is another training run.',
                  required=True)
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

DIFFERENCE_KEYS = (('success_auc', 'AUC'), ('precision_20', 'Prec@20'))


def parse_results(items):
  """['path', 'name=a+b', ...] -> {name: [run folders, ...]}, each run a list of folders.

  A name defaults to the (first) folder's name; a repeated name adds a run.
  """
  out = {}
  for item in items:
    name, sep, path = item.partition('=')
    if not sep:
      name, path = os.path.basename(os.path.normpath(item.split('+')[0])), item
    out.setdefault(name, []).append([os.path.expanduser(p) for p in path.split('+')])
  return out


def load_pooled(kind, data_dirs):
  """Sequences and attributes of the benchmark folders ``data_dirs``, pooled.

  Returns:
    (name -> ``datasets.Sequence`` (its ``gt``: [N, 4] x, y, w, h pixels),
    name -> attribute tags).

  Raises:
    app.UsageError: two folders hold a sequence of the same name.
  """
  sequences, attributes, where = {}, {}, {}
  for data_dir in data_dirs:
    dataset = datasets.load_dataset(kind, data_dir)
    for seq in dataset:
      if seq.name in where:
        raise app.UsageError(f'--data_dir: sequence {seq.name!r} is in both {where[seq.name]} '
                             f'and {data_dir}')
      where[seq.name] = data_dir
      sequences[seq.name] = seq
    attributes.update(dataset.attributes)
  return sequences, attributes


def score_run(name, folders, gts, attributes):
  """``report.evaluate_results`` of tracker ``name``'s run in ``folders``; clear errors."""
  for path in folders:
    if not os.path.isdir(path):
      raise app.UsageError(f'--results: {name}: no result folder {path}')
  try:
    return report.evaluate_results(gts, folders, first_frame=FLAGS.first_frame,
                                   attributes=attributes, box_stats=FLAGS.box_stats,
                                   keep_boxes=FLAGS.failures)
  except FileNotFoundError as e:  # an unfinished run: name the tracker and the sequence
    raise app.UsageError(f'--results: {name}: {e}') from e


def format_differences(runs, reference):
  """Lines of each tracker's difference from ``reference`` (two-level bootstrap)."""
  lines = [f'Difference from {reference} (mean over runs and videos, 95 % interval over runs '
           'and videos; videos better / worse):']
  width = max(len(n) for n in runs)
  for name in sorted(runs, key=lambda n: -report.average_runs(runs[n])['success_auc']):
    if name == reference:
      continue
    cells = []
    for key, label in DIFFERENCE_KEYS:
      c = stats.compare_runs(runs[name], runs[reference], key)
      cells.append(f'{label} {c["diff"]:+.3f} [{c["low"]:+.3f}, {c["high"]:+.3f}] '
                   f'{c["wins"]}/{c["losses"]}')
    lines.append(f'  {name:<{width}}  ' + '   '.join(cells))
  return lines


def failure_table(runs, sequences):
  """{run label: failures.outcome_shares} of every run (objects loaded once)."""
  objects = {}
  for name, seq in sequences.items():
    try:
      objects[name] = failures.sequence_objects(seq)
    except (FileNotFoundError, ValueError) as e:
      raise app.UsageError(f'--failures: {e}') from e
  table = {}
  for name, reps in runs.items():
    for i, rep in enumerate(reps):
      outcomes = []
      for seq_name, boxes in rep['boxes'].items():
        boxes_of, categories, visible = objects[seq_name]
        n = len(boxes)
        outcomes.append(failures.frame_outcomes(boxes, boxes_of[:n], categories, visible[:n]))
      table[name if len(reps) == 1 else f'{name} run {i + 1}'] = failures.outcome_shares(outcomes)
  return table


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  results = parse_results(FLAGS.results)
  if FLAGS.reference is not None and FLAGS.reference not in results:
    raise app.UsageError(f'--reference: no tracker named {FLAGS.reference!r} in --results '
                         f'({", ".join(results)})')
  sequences, attributes = load_pooled(FLAGS.dataset, FLAGS.data_dir)
  gts = {name: seq.gt for name, seq in sequences.items()}
  runs = {name: [score_run(name, folders, gts, attributes) for folders in folders_of_runs]
          for name, folders_of_runs in results.items()}
  reports = {}
  for name, reps in runs.items():
    if len(reps) == 1:
      reports[name] = reps[0]
    else:
      reports[f'{name} ({len(reps)} runs)'] = report.average_runs(reps)
  print(f'{FLAGS.dataset} ({len(gts)} sequences)')
  print(report.format_table(reports))
  for name, reps in runs.items():
    if len(reps) > 1:
      print(f'{name}: AUC of each run: ' + ' '.join(f'{r["success_auc"]:.3f}' for r in reps))
  if FLAGS.reference is not None:
    print('\n'.join(format_differences(runs, FLAGS.reference)))
  if FLAGS.box_stats:
    table = {}
    for name, reps in runs.items():
      for i, rep in enumerate(reps):
        table[name if len(reps) == 1 else f'{name} run {i + 1}'] = rep['box_stats']
    print(box_stats.format_table(table))
  if FLAGS.failures:
    print(failures.format_table(failure_table(runs, sequences)))
  if FLAGS.plots:
    from spm_jax.evaluation import plots
    paths = plots.plot_all(reports, FLAGS.plots, FLAGS.dataset)
    print(f'{len(paths)} plot files in {FLAGS.plots}')


if __name__ == '__main__':
  cli.absl_run(main)
