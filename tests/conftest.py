"""Shared test set-up: the repository root on sys.path (for ``configs``), and one
persistent XLA compilation cache per test process.

The cache: many test files build trackers and training steps of the same tiny
configs, and every ``Tracker`` jits fresh closures, so the same programs are
compiled again and again (compilation is most of the suite's time on a 2-core
machine). A cache folder made empty for each test process (each xdist worker)
and removed at its exit lets a repeated program load instead of compile; the
subprocesses a test starts (command-line scripts, the notebook kernel) inherit
it through the environment. Nothing survives the run, so a fresh machine sees
what CI sees. Tests that count compilations count cache loads too
(``tests/test_reliability_tracking.py``: ``CompileCounter``).
"""

import atexit
import os
import shutil
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


def _use_a_fresh_compilation_cache():
  worker = os.environ.get('PYTEST_XDIST_WORKER', 'main')
  path = tempfile.mkdtemp(prefix=f'spm_jax_test_xla_cache_{worker}_')
  atexit.register(shutil.rmtree, path, ignore_errors=True)
  settings = {
      'JAX_COMPILATION_CACHE_DIR': path,
      'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS': '0',  # the default (1 s) misses most.
      'JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES': '0',
  }
  os.environ.update(settings)  # for subprocesses, and for jax if not imported yet
  import jax  # pylint: disable=import-outside-toplevel
  jax.config.update('jax_compilation_cache_dir', path)
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
  jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)


_use_a_fresh_compilation_cache()


@pytest.fixture(autouse=True, scope='module')
def _forget_the_flags_of_a_test_file():
  """Deletes the absl flags a test file defined (scripts loaded in-process), at its end.

  xdist runs several test files in one process: without this, a script whose flags
  are defined at import (``--out`` of ``scripts/evaluate.py``) would clash with
  another command's flag of the same name in a later file.
  """
  from absl import flags  # pylint: disable=import-outside-toplevel
  before = set(flags.FLAGS)
  yield
  for name in set(flags.FLAGS) - before:
    delattr(flags.FLAGS, name)
