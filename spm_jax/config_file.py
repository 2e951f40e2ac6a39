"""Configs named on a command line as ``path/to/config.py[:arg]`` (big_vision style).

Scripts that take ``--config`` through ml_collections' ``config_flags`` get
this for free; the argparse scripts (track, convert_weights, benchmark) call
:func:`load`.
"""

import importlib.util
import os


def load(spec, root=None):
  """``path/to/config.py[:arg]`` -> the file's ``get_config(arg)``.

  Args:
    spec: the file, optionally followed by ``:`` and the argument string.
    root: a folder to resolve a relative path against when it does not exist
      from the working directory (e.g. the repository root).

  Raises:
    FileNotFoundError naming the file when it does not exist; whatever the
    file's ``get_config`` raises on a bad argument (ValueError, KeyError, ...).
  """
  path, _, arg = spec.partition(':')
  if root is not None and not os.path.isabs(path) and not os.path.exists(path):
    path = os.path.join(root, path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'config file {path!r} not found')
  module_spec = importlib.util.spec_from_file_location(
      '_config_' + os.path.splitext(os.path.basename(path))[0], path)
  module = importlib.util.module_from_spec(module_spec)
  module_spec.loader.exec_module(module)
  return module.get_config(arg or None)
