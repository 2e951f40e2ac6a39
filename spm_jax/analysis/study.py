r"""The accuracy study on the procedural videos: every ablation of the paper, one sweep.

No real tracking dataset reaches our machines, so the study trains and tests on
:mod:`spm_jax.data.synthetic` videos (same-category distractors, occlusion,
scale and aspect changes) with the project's own scripts (``scripts/study.py``
is the command line; run from a checkout, the scripts and ``configs/`` are
the repository's):

1. builds the held-out test split ``OUT/test`` (``python -m
   spm_jax.data.synthetic --seed 1000``: sequence ``i`` is generated from the
   seed ``(1000, i)``; the training videos, ``spm_synthetic_videos`` in tfds,
   use ``(0, i)`` -- see :func:`spm_jax.data.synthetic.sequence_seed` --, so no
   test sequence shares a generator seed with a training one);
2. trains each model of :data:`TRAININGS` with ``scripts/train.py`` into
   ``OUT/runs/<name>`` (resumable; a finished run is skipped, its wall time
   kept in ``OUT/runs/<name>/study_train.json``);
3. evaluates each row of :data:`ROWS` with ``scripts/evaluate.py`` (one-pass
   evaluation, resumable) into ``OUT/results/otb_folder/<row>``, the OpenCV
   baselines likewise (CSRT and KCF with ``contrib_python``, a Python whose
   ``cv2`` is the contrib build, since it cannot live beside ours);
4. measures the CM candidate recall (fig. 6b) with the search region on the
   previous ground truth (:mod:`spm_jax.analysis.recall`);
5. writes ``OUT/tables.md`` (tables laid out like the paper's) and the
   success / precision plots ``OUT/plots/*.png``.

``quick`` is a smoke run (10 test sequences, 40 training steps); ``only``
restricts the sweep to the named rows (:data:`ROWS`, baselines; their
trainings run as needed) and trainings (:data:`TRAININGS`: all their rows and
the recall). Re-running skips what is done. ``seeds=(0, 1, 2)`` trains each
selected model once per ``config.seed`` (seed 0 under the plain names, seed s
as ``<name>_s<s>``) and adds a table over those runs, compared with a
two-level bootstrap over runs and videos (``stats.runs_bootstrap``): a single
training run's AUC moves by a few hundredths with the seed alone.
"""

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Optional, Sequence

from absl import logging

# The repository root: the study runs its scripts/ and configs/ from there.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CONFIG = 'configs/synthetic.py'  # relative to the repository root

# Trained models: name -> configs/synthetic.py argument.
TRAININGS = {
    'spm_gt': 'variant=series_parallel,gt=True',  # the full model (tables 1, 2; fig. 6).
    'siamrpn_gt': 'variant=cm_only',  # "CM only" = SiamRPN (table 1), with GT like the full model.
    'spm_nogt': 'variant=series_parallel,gt=False',  # table 2 without GT.
    'spm_xcorr_gt': 'fm_head=xcorr',  # sec. 5.3: FM by cross-correlation.
    'spm_conv4_gt': 'fm_features=conv4',  # sec. 5.3: single-layer FM features.
}

# Evaluated rows: name -> (training, tracking-time configs/synthetic.py argument).
# 'series' and the K sweep reuse a series-parallel model: they differ only when tracking.
ROWS = {
    'sp_gt': ('spm_gt', 'variant=series_parallel'),
    'cm_only': ('siamrpn_gt', 'variant=cm_only'),
    'series_gt': ('spm_gt', 'variant=series'),
    'sp_nogt': ('spm_nogt', 'variant=series_parallel,gt=False'),
    'series_nogt': ('spm_nogt', 'variant=series,gt=False'),
    'sp_gt_k1': ('spm_gt', 'k=1'),
    'sp_gt_k3': ('spm_gt', 'k=3'),
    'sp_gt_k5': ('spm_gt', 'k=5'),
    'sp_gt_k15': ('spm_gt', 'k=15'),
    'xcorr_gt': ('spm_xcorr_gt', 'fm_head=xcorr'),
    'conv4_gt': ('spm_conv4_gt', 'fm_features=conv4'),
    'random_init': (None, 'variant=series_parallel'),
}
BASELINES = ('CSRT', 'KCF', 'MIL')
CONTRIB_BASELINES = ('CSRT', 'KCF')
# Paired differences reported with bootstrap intervals: (label, row a, row b).
COMPARISONS = (
    ('series-parallel + GT - CM only', 'sp_gt', 'cm_only'),
    ('series-parallel + GT - CSRT', 'sp_gt', 'CSRT'),
    ('series-parallel: GT - no GT', 'sp_gt', 'sp_nogt'),
    ('series - series-parallel (GT)', 'series_gt', 'sp_gt'),
    ('series - series-parallel (no GT)', 'series_nogt', 'sp_nogt'),
    ('K = 9 - K = 1', 'sp_gt', 'sp_gt_k1'),
    ('K = 15 - K = 9', 'sp_gt_k15', 'sp_gt'),
    ('FM cross-correlation - relation network', 'xcorr_gt', 'sp_gt'),
    ('FM conv4 only - conv2 + conv4', 'conv4_gt', 'sp_gt'),
    ('FM cross-correlation - CSRT', 'xcorr_gt', 'CSRT'),
)
# Rows reported over training seeds (--seeds), and their comparisons with a two-level
# bootstrap over runs and videos (stats.runs_bootstrap); baselines are one "run".
SEED_ROWS = ('sp_gt', 'series_gt', 'cm_only', 'sp_nogt', 'xcorr_gt', 'conv4_gt')
SEED_COMPARISONS = (
    ('series-parallel + GT - CM only', 'sp_gt', 'cm_only'),
    ('series-parallel + GT - CSRT', 'sp_gt', 'CSRT'),
    ('series (GT) - CSRT', 'series_gt', 'CSRT'),
    ('series - series-parallel (GT)', 'series_gt', 'sp_gt'),
    ('series-parallel: GT - no GT', 'sp_gt', 'sp_nogt'),
    ('FM cross-correlation - relation network', 'xcorr_gt', 'sp_gt'),
    ('FM cross-correlation - CSRT', 'xcorr_gt', 'CSRT'),
)
RECALL_K = 15  # one pass at the largest K gives every smaller K (recall module docstring).
RECALL_MODELS = ('spm_gt', 'spm_nogt', 'siamrpn_gt')
K_SWEEP = (1, 3, 5, 9, 15)


def seeded(name, seed):
  """The name of training or row ``name`` for training seed ``seed`` (0: ``name`` itself)."""
  return name if int(seed) == 0 else f'{name}_s{int(seed)}'

@dataclasses.dataclass
class Study:
  """One sweep's options (``scripts/study.py``'s flags of the same names)."""
  out: str  # study folder: test split, runs, results, tables
  data_dir: str  # tfds folder of the training videos
  quick: bool = False  # smoke run: 10 test sequences, 40 training steps
  only: Optional[Sequence[str]] = None  # trainings and rows to run (None: all)
  num_sequences: int = 50  # test sequences
  num_frames: int = 100  # frames per test sequence
  test_seed: int = 1000  # seed of the test split (training uses 0)
  train_overrides: Sequence[str] = ()  # extra "--config.x=y" flags of every training
  contrib_python: Optional[str] = None  # Python whose cv2 is opencv-contrib (CSRT, KCF)
  recall: bool = True  # measure the CM candidate recall (fig. 6b)
  seeds: Sequence[int] = (0,)  # training seeds (config.seed)

  def seed_list(self):
    """The training seeds as ints."""
    return [int(s) for s in self.seeds]

  def run_command(self, cmd, log_path):
    """Runs ``cmd`` (list) from the repository root, output appended to ``log_path``."""
    logging.info('$ %s', ' '.join(cmd))
    with open(log_path, 'a') as log:
      log.write('$ ' + ' '.join(cmd) + '\n')
      log.flush()
      subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)

  def wanted(self, name):
    """Whether a row, baseline or training is selected by ``only``."""
    return not self.only or name in self.only

  def training_wanted(self, training):
    """A training runs when listed or when a listed row needs it."""
    return self.wanted(training) or any(self.wanted(r) for r, (t, _) in ROWS.items()
                                        if t == training)

  def build_test_split(self, out):
    """The held-out OTB-layout test split (skipped when present)."""
    test_dir = os.path.join(out, 'test')
    n = 10 if self.quick else self.num_sequences
    if os.path.isdir(test_dir) and len(os.listdir(test_dir)) >= n:
      return test_dir
    self.run_command([sys.executable, '-m', 'spm_jax.data.synthetic', '--out', test_dir,
                      '--num_sequences', str(n), '--num_frames', str(self.num_frames),
                      '--seed', str(self.test_seed)], os.path.join(out, 'study.log'))
    return test_dir

  def train_command(self, name, workdir, seed=0):
    """The scripts/train.py command of training ``name`` with ``config.seed = seed``."""
    cmd = [sys.executable, 'scripts/train.py', f'--config={CONFIG}:{TRAININGS[name]}',
           f'--workdir={workdir}', f'--config.data.data_dir={self.data_dir}']
    if seed:
      cmd.append(f'--config.seed={seed}')
    if self.quick:
      cmd += ['--config.total_steps=40', '--config.checkpoint_every=20']
    return cmd + list(self.train_overrides)

  def train(self, out, name, seed=0):
    """Trains ``name`` (seed ``seed``) unless done; returns its ``study_train.json`` record."""
    workdir = os.path.join(out, 'runs', seeded(name, seed))
    record_path = os.path.join(workdir, 'study_train.json')
    if os.path.isfile(record_path):
      with open(record_path) as f:
        return json.load(f)
    os.makedirs(workdir, exist_ok=True)
    cmd = self.train_command(name, workdir, seed)
    start = time.time()
    self.run_command(cmd, os.path.join(workdir, 'study_train.log'))
    with open(os.path.join(workdir, 'config.json')) as f:
      steps = json.load(f).get('total_steps')
    with open(os.path.join(workdir, 'study_train.log')) as f:
      invocations = f.read().count('$ ')  # > 1: resumed; the time is the last invocation's.
    record = {'seconds': time.time() - start, 'steps': steps, 'invocations': invocations,
              'command': ' '.join(cmd[1:]).replace(out, 'OUT')}
    with open(record_path, 'w') as f:
      json.dump(record, f, indent=1)
    return record

  def evaluate_command(self, out, test_dir, row, seed=0):
    """The scripts/evaluate.py command of row ``row`` (a ROWS key or a baseline), training seed
    ``seed`` (rows of a trained model only)."""
    common = ['--dataset=otb_folder', f'--data_dir={test_dir}',
              f'--out={os.path.join(out, "results")}', f'--name={seeded(row, seed)}',
              '--noprogress']
    if row in BASELINES:
      python = self.contrib_python if row in CONTRIB_BASELINES else sys.executable
      return [python, 'scripts/evaluate.py', f'--baseline={row}'] + common
    training, arg = ROWS[row]
    cmd = [sys.executable, 'scripts/evaluate.py', f'--config={CONFIG}:{arg}']
    if training:
      cmd.append(f'--checkpoint={os.path.join(out, "runs", seeded(training, seed))}')
    return cmd + common

  def evaluate(self, out, test_dir, row, seed=0):
    """Runs the OPE of ``row`` (resumable); returns its result folder."""
    result_dir = os.path.join(out, 'results', 'otb_folder', seeded(row, seed))
    self.run_command(self.evaluate_command(out, test_dir, row, seed),
                     os.path.join(out, 'study.log'))
    return result_dir

  def measure_recall(self, out, test_dir, training):
    """GT-guided candidate recall of ``training``'s CM stage for every K of fig. 6a."""
    path = os.path.join(out, 'recall', f'{training}.json')
    if os.path.isfile(path):
      with open(path) as f:
        return json.load(f)
    import numpy as np
    from spm_jax import config_file
    from spm_jax.evaluation import datasets
    from spm_jax.analysis import recall
    from spm_jax.tracking import Tracker
    from spm_jax.train import trainer
    gt_arg = TRAININGS[training].split('gt=')[-1] if 'gt=' in TRAININGS[training] else 'True'
    config = config_file.load(f'{CONFIG}:variant=series_parallel,k={RECALL_K},gt={gt_arg}', ROOT)
    tracker = Tracker(config, trainer.load_variables(os.path.join(out, 'runs', training)))
    dataset = datasets.load_dataset('otb_folder', test_dir)
    per_seq = []
    for seq in dataset:
      per_seq.append(recall.gt_guided_candidates(tracker, seq) + (seq.gt,))
    result = {}
    for k in K_SWEEP:
      best = [recall.best_overlaps(p, v, gt, k=k) for p, v, gt in per_seq]
      r = recall.candidate_recall(best, thresholds=np.round(np.arange(0.3, 0.9001, 0.05), 2))
      mean_05_07 = recall.candidate_recall(best)['mean_recall']
      result[str(k)] = {'thresholds': r['thresholds'].tolist(), 'recall': r['recall'].tolist(),
                        'recall_at_0.5': r['recall_at_0.5'], 'mean_recall_0.5_0.7': mean_05_07}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
      json.dump(result, f, indent=1)
    return result

  def write_tables(self, out, test_dir, train_records, recalls):
    """``OUT/tables.md`` and ``OUT/plots/*.png`` from whatever results exist."""
    from spm_jax.evaluation import datasets
    from spm_jax.evaluation import plots
    from spm_jax.evaluation import report
    from spm_jax.evaluation import stats
    dataset = datasets.load_dataset('otb_folder', test_dir)
    reports = {}
    names = list(ROWS) + [seeded(r, s) for s in self.seed_list() if s for r in ROWS if ROWS[r][0]]
    for row in names + list(BASELINES):
      result_dir = os.path.join(out, 'results', 'otb_folder', row)
      try:
        reports[row] = report.evaluate_results(dataset, result_dir)
      except (FileNotFoundError, OSError, ValueError):
        continue

    def cell(row, key):
      return _fmt(reports[row][key]) if row in reports else '-'

    def line(label, row):
      return f'| {label} | {cell(row, "success_auc")} | {cell(row, "precision_20")} |'

    md = [f'Test split: {len(dataset)} sequences (seed {self.test_seed}), OPE; success AUC '
          '(got10k: mean of 21 thresholds) and precision at 20 px.', '']
    md += ['## Table 1: architectures', '', '| model | AUC | P@20 |', '| --- | --- | --- |',
           line('CM only (SiamRPN), GT', 'cm_only'), line('CM+FM series, GT', 'series_gt'),
           line('CM+FM series-parallel, GT', 'sp_gt'), line('CM+FM series, no GT', 'series_nogt'),
           line('CM+FM series-parallel, no GT', 'sp_nogt'), '']
    md += ['## Table 2: generalized training', '', '| model | AUC | P@20 |', '| --- | --- | --- |',
           line('S-P model', 'sp_nogt'), line('S-P model + GT', 'sp_gt'), '']
    k_rows = {1: 'sp_gt_k1', 3: 'sp_gt_k3', 5: 'sp_gt_k5', 9: 'sp_gt', 15: 'sp_gt_k15'}
    md += ['## Fig. 6: number of candidates K (S-P + GT) and CM recall', '',
           '| K | AUC | P@20 | recall@0.5 GT | mean recall 0.5:0.7 GT | recall@0.5 no GT | '
           'mean recall 0.5:0.7 no GT |', '| --- | --- | --- | --- | --- | --- | --- |']
    for k, row in k_rows.items():
      rec = []
      for training in ('spm_gt', 'spm_nogt'):
        r = recalls.get(training, {}).get(str(k))
        rec += [_fmt(r['recall_at_0.5']), _fmt(r['mean_recall_0.5_0.7'])] if r else ['-', '-']
      md.append(f'| {k} | {cell(row, "success_auc")} | {cell(row, "precision_20")} | '
                + ' | '.join(rec) + ' |')
    if 'siamrpn_gt' in recalls:
      r = recalls['siamrpn_gt']['9']
      md += ['', f'CM stage of the CM-only model, same candidate selection, K = 9: recall@0.5 '
             f'{_fmt(r["recall_at_0.5"])}, mean 0.5:0.7 {_fmt(r["mean_recall_0.5_0.7"])}.']
    md += ['', '## Sec. 5.3: the FM stage (all with GT)', '', '| FM stage | AUC | P@20 |',
           '| --- | --- | --- |', line('relation network, conv2 + conv4', 'sp_gt'),
           line('cross-correlation, conv2 + conv4', 'xcorr_gt'),
           line('relation network, conv4 only', 'conv4_gt'), '']
    md += ['## Baselines (same sequences, same OPE code)', '', '| tracker | AUC | P@20 | fps |',
           '| --- | --- | --- | --- |']
    for row in ('sp_gt', 'cm_only') + BASELINES + ('random_init',):
      if row in reports:
        md.append(f'| {row} | {cell(row, "success_auc")} | {cell(row, "precision_20")} | '
                  f'{reports[row]["fps"]:.1f} |')
    md += ['', '## Paired differences (success AUC)', '',
           'Mean over videos of a - b; 95 % paired bootstrap interval over the videos '
           '(`spm_jax.evaluation.stats`, 10,000 resamples, seed 0); videos where a is better / '
           'worse.', '', '| a - b | difference | 95 % interval | better / worse |',
           '| --- | --- | --- | --- |']
    for label, a, b in COMPARISONS:
      if a in reports and b in reports:
        c = stats.compare_reports(reports[a], reports[b])
        md.append(f'| {label} | {c["diff"]:+.3f} | [{c["low"]:+.3f}, {c["high"]:+.3f}] | '
                  f'{c["wins"]} / {c["losses"]} |')
    md += self.seed_tables(reports)
    md += ['', '## Trainings', '', '| training | config | steps | wall time (min) |',
           '| --- | --- | --- | --- |']
    for name, rec in train_records.items():
      training, seed = rec['training'], rec['seed']
      md.append(f'| {name} | `{CONFIG}:{TRAININGS[training]}`'
                + (f' `--config.seed={seed}`' if seed else '')
                + f' | {rec["steps"]} | {rec["seconds"] / 60:.1f} |')
    with open(os.path.join(out, 'tables.md'), 'w') as f:
      f.write('\n'.join(md) + '\n')

    plot_dir = os.path.join(out, 'plots')
    groups = {
        'table1': ('cm_only', 'series_gt', 'sp_gt', 'series_nogt', 'sp_nogt'),
        'fm_stage': ('sp_gt', 'xcorr_gt', 'conv4_gt', 'sp_nogt'),
        'baselines': ('sp_gt', 'cm_only') + BASELINES + ('random_init',),
    }
    for group, rows in groups.items():
      sub = {r: reports[r] for r in rows if r in reports}
      if sub:
        plots.plot_success(sub, os.path.join(plot_dir, f'{group}_success'),
                           title=f'Success (synthetic test, {len(dataset)} seq.)')
        plots.plot_precision(sub, os.path.join(plot_dir, f'{group}_precision'),
                             title=f'Precision (synthetic test, {len(dataset)} seq.)')
    if recalls:
      _plot_recall(recalls, os.path.join(plot_dir, 'recall'))
    return reports

  def runs(self, reports, row):
    """The reports of ``row`` over the training seeds (a baseline: its one report)."""
    if row in BASELINES:
      return [reports[row]] if row in reports else []
    return [reports[seeded(row, s)] for s in self.seed_list() if seeded(row, s) in reports]

  def seed_tables(self, reports):
    """Markdown of the rows over training seeds (empty unless a row has two runs or more)."""
    from spm_jax.evaluation import stats
    if not any(len(self.runs(reports, r)) > 1 for r in SEED_ROWS):
      return []
    md = ['', '## Over training seeds', '',
          f'Seeds {", ".join(str(s) for s in self.seed_list())} (`--config.seed`; 0 is the '
          'plain run above). Success AUC of each run, their mean and standard deviation.', '',
          '| row | runs | AUC per run | mean | sd |', '| --- | --- | --- | --- | --- |']
    for row in SEED_ROWS + ('CSRT',):
      runs = self.runs(reports, row)
      if runs:
        aucs = [r['success_auc'] for r in runs]
        sd = f'{statistics.stdev(aucs):.3f}' if len(aucs) > 1 else '-'
        md.append(f'| {row} | {len(aucs)} | {", ".join(f"{x:.3f}" for x in aucs)} | '
                  f'{statistics.mean(aucs):.3f} | {sd} |')
    md += ['', 'Differences over runs and videos: mean of a over its runs and the videos minus '
           "b's; 95 % interval of a two-level bootstrap (each resample draws the videos, paired, "
           'and each side\'s runs; `stats.runs_bootstrap`); videos where a\'s mean over its runs '
           "is above / below b's.", '',
           '| a - b | runs a / b | difference | 95 % interval | better / worse |',
           '| --- | --- | --- | --- | --- |']
    for label, a, b in SEED_COMPARISONS:
      ra, rb = self.runs(reports, a), self.runs(reports, b)
      if ra and rb and max(len(ra), len(rb)) > 1:
        c = stats.compare_runs(ra, rb)
        md.append(f'| {label} | {len(ra)} / {len(rb)} | {c["diff"]:+.3f} | '
                  f'[{c["low"]:+.3f}, {c["high"]:+.3f}] | {c["wins"]} / {c["losses"]} |')
    return md

  def load_records(self, out):
    """Every finished training's record and recall on disk."""
    records, recalls = {}, {}
    for seed in sorted(set(self.seed_list()) | {0}):
      for training in TRAININGS:
        name = seeded(training, seed)
        path = os.path.join(out, 'runs', name, 'study_train.json')
        if os.path.isfile(path):
          with open(path) as f:
            records[name] = dict(json.load(f), training=training, seed=seed)
    for name in TRAININGS:
      path = os.path.join(out, 'recall', f'{name}.json')
      if os.path.isfile(path):
        with open(path) as f:
          recalls[name] = json.load(f)
    return records, recalls


  def run(self):
    """The whole sweep (resumable); returns the text of ``OUT/tables.md``."""
    out = os.path.abspath(self.out)
    os.makedirs(out, exist_ok=True)
    test_dir = self.build_test_split(out)

    def refresh_tables():
      self.write_tables(out, test_dir, *self.load_records(out))

    # Baselines first (cheap), then one training at a time with its rows and recall,
    # the tables rewritten after each so that an interrupted sweep leaves them usable.
    for name in BASELINES + ('random_init',):
      if not self.wanted(name):
        continue
      if name in CONTRIB_BASELINES and not self.contrib_python:
        logging.warning('%s needs contrib_python (opencv-contrib); skipped.', name)
        continue
      self.evaluate(out, test_dir, name)
    refresh_tables()
    for seed in self.seed_list():
      for training in TRAININGS:
        if not self.training_wanted(training):
          continue
        logging.info('trained %s: %s', seeded(training, seed), self.train(out, training, seed))
        for row, (row_training, _) in ROWS.items():
          if row_training == training and (self.wanted(row) or self.wanted(training)):
            self.evaluate(out, test_dir, row, seed)
        if self.recall and training in RECALL_MODELS and self.wanted(training) and seed == 0:
          self.measure_recall(out, test_dir, training)
        refresh_tables()
    with open(os.path.join(out, 'tables.md')) as f:
      return f.read()


def _fmt(x):
  return '-' if x is None else f'{x:.3f}'


def _plot_recall(recalls, stem):
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  fig, ax = plt.subplots(figsize=(5, 4))
  for training, style in (('spm_gt', '-'), ('spm_nogt', '--')):
    for k in K_SWEEP:
      r = recalls.get(training, {}).get(str(k))
      if r and (training == 'spm_gt' or k == 9):
        ax.plot(r['thresholds'], r['recall'], style,
                label=f'K={k}{"" if training == "spm_gt" else " no GT"} '
                      f'[{r["mean_recall_0.5_0.7"]:.3f}]')
  ax.set(xlabel='Overlap threshold', ylabel='Recall', title='CM candidate recall', ylim=(0, 1))
  ax.grid(True, linestyle=':')
  ax.legend(fontsize=8, loc='lower left')
  fig.savefig(stem + '.png', dpi=100, bbox_inches='tight')
  plt.close(fig)
