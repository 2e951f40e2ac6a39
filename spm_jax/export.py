"""Self-contained model files: a config and its variables in one folder.

An exported model is ``DIR/config.json`` (the full ConfigDict) plus
``DIR/variables.msgpack`` (Flax variables serialised with
``flax.serialization``). This is the format of the embedded default model and
of ``--checkpoint`` arguments that point at a folder with these two files.
Wherever a folder is read, the name of an embedded model (``'default'``,
``'procedural'``, :mod:`spm_jax.embedded_models`) may stand for its folder.
"""

import json
import os

import flax.serialization
import jax
import ml_collections
import numpy as np

from spm_jax import embedded_models

CONFIG_FILE = 'config.json'
VARIABLES_FILE = 'variables.msgpack'


def save_model(directory, config, variables):
  """Writes ``config`` and ``variables`` into ``directory`` (created if needed)."""
  os.makedirs(directory, exist_ok=True)
  host = jax.tree.map(np.asarray, jax.device_get(variables))
  # Each file is written beside its final name and renamed when complete, so a
  # process killed while saving never leaves a truncated file under that name.
  for name, data in ((CONFIG_FILE, config.to_json_best_effort(indent=2).encode()),
                     (VARIABLES_FILE, flax.serialization.msgpack_serialize(host))):
    tmp = os.path.join(directory, name + '.tmp')
    with open(tmp, 'wb') as f:
      f.write(data)
    os.replace(tmp, os.path.join(directory, name))


def _tuples(value):
  """JSON lists back to tuples (configs hold tuples)."""
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def load_model(directory):
  """Reads a model written by :func:`save_model`.

  Args:
    directory: the model folder, or an embedded model's name
      (:mod:`spm_jax.embedded_models`).

  Returns:
    (config, variables).

  Raises:
    FileNotFoundError naming the missing file; ValueError naming a file that
    cannot be parsed.
  """
  directory = embedded_models.resolve(directory)
  paths = [os.path.join(directory, name) for name in (CONFIG_FILE, VARIABLES_FILE)]
  for path in paths:
    if not os.path.isfile(path):
      raise FileNotFoundError(f'model file {path} not found (a model folder holds '
                              f'{CONFIG_FILE} and {VARIABLES_FILE}; embedded models: '
                              f'{embedded_models.names()})')
  try:
    with open(paths[0]) as f:
      config = ml_collections.ConfigDict(_tuples(json.load(f)))
  except ValueError as e:
    raise ValueError(f'{paths[0]} is not a valid config file: {e}') from e
  try:
    with open(paths[1], 'rb') as f:
      variables = flax.serialization.msgpack_restore(f.read())
  except Exception as e:  # msgpack raises several types on corrupt input
    raise ValueError(f'{paths[1]} is truncated or corrupt: {e}') from e
  return config, variables


def flatten(tree, prefix=()):
  """``{path tuple: leaf}`` of a nested dict, e.g. ``('params', 'fm', 'fc0', 'kernel')``."""
  out = {}
  if isinstance(tree, dict) or hasattr(tree, 'items'):
    for key, value in tree.items():
      out.update(flatten(value, prefix + (str(key),)))
  else:
    out[prefix] = tree
  return out


def unflatten(flat):
  """Inverse of :func:`flatten`: nested dicts from ``{path tuple: leaf}``."""
  out = {}
  for path, value in flat.items():
    node = out
    for key in path[:-1]:
      node = node.setdefault(key, {})
    node[path[-1]] = value
  return out


def variable_mismatches(config, variables):
  """Differences between ``variables`` and the variables ``config`` builds.

  The expected tree comes from ``jax.eval_shape`` of
  :func:`spm_jax.models.init_variables` (no computation, no memory).

  Args:
    config: full config.
    variables: nested dict of arrays (a checkpoint's variables).

  Returns:
    list of human-readable lines, one per mismatched path: ``path: checkpoint
    (a, b), config (c, d)``, ``path: missing from the checkpoint`` or ``path:
    not in the model of this config``. Empty when everything matches.
  """
  from spm_jax import models  # local: models imports flax modules, export is light
  expected = jax.eval_shape(lambda key: models.init_variables(config, key), jax.random.key(0))
  want = {'/'.join(k): tuple(v.shape) for k, v in flatten(expected).items()}
  have = {'/'.join(k): tuple(np.shape(v)) for k, v in flatten(variables).items()}
  return shape_mismatches(have, want, scope='model')


def shape_mismatches(have, want, scope='model'):
  """Lines naming every difference between two ``{name: shape}`` dicts.

  Args:
    have: the checkpoint's shapes.
    want: the shapes the config builds.
    scope: what the config builds ('model' or 'state'), for the message.

  Returns:
    sorted lines ``name: checkpoint (a, b), config (c, d)``, ``name: missing
    from the checkpoint (...)`` or ``name: not in the <scope> of this config
    (...)``.
  """
  lines = []
  for name in sorted(set(want) | set(have)):
    if name not in have:
      lines.append(f'{name}: missing from the checkpoint (config expects {want[name]})')
    elif name not in want:
      lines.append(f'{name}: not in the {scope} of this config (checkpoint has {have[name]})')
    elif have[name] != want[name]:
      lines.append(f'{name}: checkpoint {have[name]}, config {want[name]}')
  return lines


def shown_lines(lines, limit=20):
  """The first ``limit`` lines, then ``... and N more``, for error messages."""
  return lines[:limit] + ([f'... and {len(lines) - limit} more'] if len(lines) > limit else [])


def check_variables(config, variables, source='checkpoint'):
  """Raises ValueError unless ``variables`` fit the model ``config`` builds.

  The message lists every mismatched parameter path with both shapes, e.g.
  ``params/backbone/conv1/kernel: checkpoint (11, 11, 3, 24), config
  (11, 11, 3, 96)``; a typical cause is a checkpoint of the ``runlocal``
  config loaded with the full config (or the reverse).

  Args:
    config: full config.
    variables: nested dict of arrays.
    source: what to call ``variables`` in the message (e.g. its path).
  """
  lines = variable_mismatches(config, variables)
  if lines:
    shown = shown_lines(lines)
    raise ValueError(f'{source} does not match the config ({len(lines)} mismatched '
                     'variables; was it saved with another config, e.g. runlocal?):\n  '
                     + '\n  '.join(shown))


def load_checked(directory, config=None):
  """Loads an exported model and checks its variables against a config.

  Args:
    directory: folder written by :func:`save_model`, or an embedded model's
      name (:mod:`spm_jax.embedded_models`).
    config: the config to run with; None uses the checkpoint's own
      ``config.json``.

  Returns:
    (config, variables).

  Raises:
    FileNotFoundError / ValueError from :func:`load_model`; ValueError from
    :func:`check_variables` naming every mismatched parameter shape.
  """
  directory = embedded_models.resolve(directory)
  saved_config, variables = load_model(directory)
  config = saved_config if config is None else config
  check_variables(config, variables, source=f'checkpoint {directory}')
  return config, variables


def is_model_folder(path):
  """Whether ``path`` is a folder written by :func:`save_model` (not a training run)."""
  return os.path.isfile(os.path.join(path, VARIABLES_FILE))


def load_for_config(path, config):
  """Variables for ``config`` from an exported model or a training run.

  Args:
    path: a folder written by :func:`save_model` (``variables.msgpack``
      inside), an embedded model's name (:mod:`spm_jax.embedded_models`) or a
      training workdir (its latest orbax checkpoint under ``checkpoints/``).
    config: the config to run with; the variables are checked against it.

  Returns:
    the variables (nested dict of arrays).

  Raises:
    FileNotFoundError naming the folder when it is neither; ValueError naming
    every mismatched parameter shape.
  """
  path = embedded_models.resolve(path)
  if not os.path.isdir(path):
    raise FileNotFoundError(f'{path} is neither an exported model, a training run nor an embedded '
                            f'model name ({embedded_models.names()}): no such folder')
  if is_model_folder(path):
    return load_checked(path, config)[1]
  from spm_jax.train import trainer  # local: training code is heavier than this module
  variables = trainer.load_variables(path)
  check_variables(config, variables, source=f'checkpoint {path}')
  return variables


def config_and_variables(config, path):
  """``(config, variables)`` to track with: ``config`` given, or the model's own.

  Args:
    config: the config to run with, or None for the one saved with the model
      (its tracking values included).
    path: as :func:`load_for_config`; without ``config`` it must be an exported
      model or an embedded model's name (a training run holds no config).

  Returns:
    (config, variables), the variables checked against the config.

  Raises:
    ValueError when ``config`` is None and ``path`` is not a model folder;
    as :func:`load_for_config` otherwise.
  """
  if config is not None:
    return config, load_for_config(path, config)
  folder = embedded_models.resolve(path) if path else None
  if not folder or not is_model_folder(folder):
    raise ValueError(f'--config is needed unless --checkpoint is an exported model folder or an '
                     f'embedded model name ({embedded_models.names()}); got {path!r}')
  return load_checked(folder)
