"""Self-contained model files: a config and its variables in one folder.

An exported model is ``DIR/config.json`` (the full ConfigDict) plus
``DIR/variables.msgpack`` (Flax variables serialised with
``flax.serialization``). This is the format of the embedded default model and
of ``--checkpoint`` arguments that point at a folder with these two files.
"""

import json
import os

import flax.serialization
import jax
import ml_collections
import numpy as np

CONFIG_FILE = 'config.json'
VARIABLES_FILE = 'variables.msgpack'


def save_model(directory, config, variables):
  """Writes ``config`` and ``variables`` into ``directory`` (created if needed)."""
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, CONFIG_FILE), 'w') as f:
    f.write(config.to_json_best_effort(indent=2))
  host = jax.tree.map(np.asarray, jax.device_get(variables))
  tmp = os.path.join(directory, VARIABLES_FILE + '.tmp')
  with open(tmp, 'wb') as f:
    f.write(flax.serialization.msgpack_serialize(host))
  os.replace(tmp, os.path.join(directory, VARIABLES_FILE))


def _tuples(value):
  """JSON lists back to tuples (configs hold tuples)."""
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def load_model(directory):
  """Reads a model written by :func:`save_model`.

  Returns:
    (config, variables).

  Raises:
    FileNotFoundError naming the missing file; ValueError naming a file that
    cannot be parsed.
  """
  paths = [os.path.join(directory, name) for name in (CONFIG_FILE, VARIABLES_FILE)]
  for path in paths:
    if not os.path.isfile(path):
      raise FileNotFoundError(f'model file {path} not found (a model folder holds '
                              f'{CONFIG_FILE} and {VARIABLES_FILE})')
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
