"""Shared test set-up: the repository root on sys.path (for ``configs``)."""

import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


def pytest_collection_modifyitems(config, items):
  """Runs the files with the most slow tests first (each file keeps its own order).

  With README's ``-n 2 --dist loadfile`` each file goes to the next free
  worker, so the long files start early instead of finishing alone at the end.
  """
  del config
  slow = collections.Counter(item.path for item in items if item.get_closest_marker('slow'))
  items.sort(key=lambda item: -slow[item.path])
