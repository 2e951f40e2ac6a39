"""Shared test set-up: the repository root on sys.path (for ``configs``)."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


# The longest test files, longest first: seconds in one process on the 2-core VM of Session 6
# (pytest --durations): accuracy 200, benchmark 120, train_run 110, reliability_tracking 95,
# tracker 90, train_cli 80, train_multidevice 67, fm_variants 62, notebook 54, models 45,
# multi_tracker 40; every other file takes under 25.
LONG_FILES = ('test_accuracy.py', 'test_benchmark.py', 'test_train_run.py',
              'test_reliability_tracking.py', 'test_tracker.py', 'test_train_cli.py',
              'test_train_multidevice.py', 'test_fm_variants.py', 'test_notebook.py',
              'test_models.py', 'test_multi_tracker.py')


def pytest_collection_modifyitems(config, items):
  """Runs the longest files first (each file keeps its own order).

  With README's ``-n 2 --dist loadfile`` each file goes to the next free
  worker, so longest-first keeps the two workers busy until the end instead
  of one long file finishing alone.
  """
  del config
  rank = {name: i for i, name in enumerate(LONG_FILES)}
  items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))
