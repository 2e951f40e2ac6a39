"""A :class:`~spm_jax.tracking.Tracker` that runs exported files instead of the model.

The host side (crops, state, validation) is the Tracker's own; only its two
device functions are replaced by the exported ones of
:mod:`spm_jax.deploy.exporter`: ``backend='onnx'`` runs ``template.onnx`` /
``step.onnx`` in onnxruntime (CPU provider), ``backend='stablehlo'`` runs
``template.stablehlo`` / ``step.stablehlo`` through ``jax.export.deserialize``.
Neither builds the Flax model nor reads a variables file::

  tracker = runtime.load_tracker('exported/default', backend='onnx')
  tracker.init(first_frame, (x, y, w, h))
  box, score = tracker.update(frame)

Frames are uint8 [H, W, 3] RGB; boxes (x, y, w, h) frame pixels, 0-based,
continuous, as for :class:`~spm_jax.tracking.Tracker`.
"""

import json
import os

import ml_collections
import numpy as np

from spm_jax import export
from spm_jax.tracking import step as step_ops
from spm_jax.tracking.tracker import Tracker

METADATA_FILE = 'export.json'
FILES = {  # format -> (template file, step file[, step file with a symbolic batch])
    'stablehlo': ('template.stablehlo', 'step.stablehlo', 'step_batched.stablehlo'),
    'onnx': ('template.onnx', 'step.onnx'),
}


def load_metadata(directory):
  """``export.json`` of an export folder; FileNotFoundError naming it when absent."""
  path = os.path.join(directory, METADATA_FILE)
  if not os.path.isfile(path):
    raise FileNotFoundError(f'{path} not found (an export folder is written by '
                            'scripts/export_model.py --format stablehlo|onnx)')
  with open(path) as f:
    return json.load(f)


def _onnx_runner(path):
  """fn(list of arrays) -> list of arrays running ``path`` in onnxruntime (CPU)."""
  import onnxruntime  # pylint: disable=import-outside-toplevel
  options = onnxruntime.SessionOptions()
  options.log_severity_level = 3  # jax2onnx leaves unused initializers; ort warns per node
  session = onnxruntime.InferenceSession(path, options, providers=['CPUExecutionProvider'])
  names = [i.name for i in session.get_inputs()]
  return lambda arrays: session.run(None, dict(zip(names, arrays)))


def _stablehlo_runner(path):
  """fn(list of arrays) -> list of NumPy arrays calling the deserialised ``jax.export``."""
  import jax  # pylint: disable=import-outside-toplevel
  from jax import export as jax_export  # pylint: disable=import-outside-toplevel
  with open(path, 'rb') as f:
    exported = jax_export.deserialize(bytearray(f.read()))
  call = jax.jit(exported.call)
  return lambda arrays: list(jax.device_get(call(*arrays)))


RUNNERS = {'onnx': _onnx_runner, 'stablehlo': _stablehlo_runner}


class ExportedFunctions:
  """``(template_fn, track_fn)`` with the signatures of :func:`~spm_jax.tracking.step.make_track_fns`.

  The ``variables`` argument is ignored (they are inside the files). The
  template pytree is the list of template leaves.
  """

  def __init__(self, directory, backend):
    if backend not in RUNNERS:
      raise ValueError(f'backend must be one of {sorted(RUNNERS)}, got {backend!r}')
    self.metadata = load_metadata(directory)
    if backend not in self.metadata['formats']:
      raise ValueError(f'{directory} holds no {backend} export (formats: '
                       f'{self.metadata["formats"]}); export it with --format {backend}')
    template_file, step_file = FILES[backend][:2]
    self._template = RUNNERS[backend](os.path.join(directory, template_file))
    self._step = RUNNERS[backend](os.path.join(directory, step_file))
    self.output_names = [o['name'] for o in self.metadata['step']['outputs']]

  def template_fn(self, variables, z_crop, z_box):
    """z_crop [S, S, 3] RGB, z_box [4] x1, y1, x2, y2 template-crop pixels -> list of leaves."""
    del variables
    return self._template([np.asarray(z_crop, np.float32), np.asarray(z_box, np.float32)])

  def track_fn(self, variables, template, x_crop, state, geometry):
    """One target: ``(TrackState, outputs)`` as :func:`~spm_jax.tracking.step.make_track_fns`."""
    del variables
    one = lambda a: np.asarray(a, np.float32)[None]
    arrays = [np.asarray(t) for t in template] + [
        one(x_crop), one(state.center), one(state.size), one(geometry.origin),
        one(geometry.scale), one(geometry.frame_size)]
    out = dict(zip(self.output_names, (np.asarray(a)[0] for a in self._step(arrays))))
    new_state = step_ops.TrackState(out.pop('new_center'), out.pop('new_size'))
    return new_state, out


def load_tracker(directory, backend='onnx'):
  """A :class:`~spm_jax.tracking.Tracker` running the exported files in ``directory``.

  Args:
    directory: folder written by :func:`spm_jax.deploy.exporter.export`.
    backend: 'onnx' (onnxruntime, CPU provider) or 'stablehlo' (jax.export).

  Returns:
    a Tracker with the usual ``init(frame, box)`` / ``update(frame)``; its
    config is the one the step was exported from.
  """
  fns = ExportedFunctions(directory, backend)
  config = ml_collections.ConfigDict(export._tuples(fns.metadata['config']))  # pylint: disable=protected-access
  tracker = Tracker(config, None, fns=(fns.template_fn, fns.track_fn))
  tracker.trained = True
  return tracker
