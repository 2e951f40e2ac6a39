"""The models embedded in the package, by name (README: "Embedded default model").

Each is an exported model folder (``config.json`` + ``variables.msgpack``, see
:mod:`spm_jax.export`) under ``spm_jax/assets/``:

* ``default``: the model ``Tracker.pretrained()`` loads and the scripts use
  when given no model;
* ``procedural``: the AlexNet (``runlocal`` widths) trained from scratch on the
  procedural videos of :mod:`spm_jax.data.synthetic` (``configs/synthetic.py``),
  the model of the procedural study in ``docs/results.md``.

Wherever a model folder is taken (``Tracker.pretrained``, ``--checkpoint`` /
``--model`` of the scripts and the demo, :func:`spm_jax.export.load_checked`),
one of these names may be given instead; a folder whose path is a bare name
(``procedural``) is reached as ``./procedural``.
"""

import os

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
MODELS = {name: os.path.join(ASSETS_DIR, name) for name in ('default', 'procedural')}


def names():
  """The registered names, comma-separated, for messages."""
  return ', '.join(MODELS)


def resolve(name_or_dir):
  """The folder of a registered name; any other string is returned as it is (a folder path).

  Args:
    name_or_dir: ``'default'``, ``'procedural'`` or a model folder's path
      (``os.PathLike`` accepted).
  """
  key = os.fspath(name_or_dir)
  return MODELS.get(key, key)
