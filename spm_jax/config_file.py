"""Configs named on a command line as ``path/to/config.py[:arg]`` (big_vision style).

The command lines take ``--config`` through ml_collections' ``config_flags``;
code given such a string calls :func:`load`.
Configs and code that need a config of ``configs/`` by name use
:func:`load_module` / :func:`get_config`: the folder is not an importable
package.
"""

import importlib.util
import os
import re
import sys


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

# The configs/ folder beside the package (a checkout or an editable install).
CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs')


def load_module(name, folder=None):
  """The config file ``folder/name.py`` as a module, loaded once per file.

  Configs import one another with it (``spm_alexnet =
  config_file.load_module('spm_alexnet')``), so no top-level ``configs``
  package needs to be importable.

  Args:
    name: the file's name without ``.py`` (``'spm_alexnet'``).
    folder: where it lies; default :data:`CONFIG_DIR`.

  Raises:
    FileNotFoundError naming the file when it does not exist.
  """
  path = os.path.abspath(os.path.join(folder or CONFIG_DIR, name + '.py'))
  if not os.path.isfile(path):
    raise FileNotFoundError(f'config file {path!r} not found (configs/ lies beside the spm_jax '
                            'package in a checkout of the repository)')
  key = '_spm_jax_config_' + re.sub(r'\W', '_', path)
  module = sys.modules.get(key)
  if module is None:
    module_spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[key] = module
    try:
      module_spec.loader.exec_module(module)
    except BaseException:
      del sys.modules[key]
      raise
  return module


def get_config(name, arg=None):
  """``get_config(arg)`` of the config file ``configs/name.py`` (:func:`load_module`)."""
  return load_module(name).get_config(arg)
