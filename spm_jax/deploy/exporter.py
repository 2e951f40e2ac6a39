"""The template function and the per-frame step written as StableHLO and ONNX.

Both are built from :func:`spm_jax.tracking.step.make_batch_fns`, so whatever
that step does (variant, proposal rules, tracking config) is what is exported.
The variables are baked in as constants: each exported file is the whole
model, and running it needs neither the model code nor a variables file.

Files written into one folder (names in :mod:`spm_jax.deploy.runtime`):

* ``template.stablehlo`` / ``step.stablehlo`` / ``step_batched.stablehlo``:
  ``jax.export`` serialisations
  (``jax.export.deserialize(bytearray(open(path, 'rb').read())).call(...)``).
  ``step`` has batch 1 (one target, the JAX tracker's computation bit for
  bit); ``step_batched`` a symbolic batch ``b`` (any number of targets).
* ``template.onnx`` / ``step.onnx``: the same functions through jax2onnx, batch
  1 (the single-target step), opset 23. The whole step is one graph: NMS and
  top-K included (see :mod:`spm_jax.deploy.onnx_lowering` for the rewrites
  that make it convertible); nothing runs on the host but the crops.
* ``export.json``: input and output names, shapes and dtypes, conventions, the
  config the step was built from, versions, export times.

Flat signatures (``B`` the batch, ``S`` the template crop side, ``Sx`` the
search crop side; crops are float32 RGB in 0..255, normalisation happens in
the graph):

* template: ``z_crop`` [S, S, 3], ``z_box`` [4] x1, y1, x2, y2 template-crop
  pixels -> ``template_0 .. template_{n-1}`` (the template pytree's leaves,
  leading axis 1).
* step: ``template_*`` with leading axis B, ``x_crop`` [B, Sx, Sx, 3],
  ``center`` [B, 2], ``size`` [B, 2] (the state: cx, cy and w, h frame
  pixels), ``origin`` [B, 2], ``scale`` [B], ``frame_size`` [B, 2] (the crop
  geometry) -> ``new_center``, ``new_size`` and every output of the step
  (``box`` [B, 4] x, y, w, h frame pixels, ``score``, ``chosen``, ...).
"""

import importlib.metadata
import json
import os
import time

import jax
from jax import export as jax_export
import jax.numpy as jnp
import numpy as np

from spm_jax.deploy import runtime
from spm_jax.tracking import step as step_ops

STATE_INPUTS = ('center', 'size')
GEOMETRY_INPUTS = ('origin', 'scale', 'frame_size')


def template_crop_size(config):
  """Side of the crop the template function takes."""
  size_fn = getattr(step_ops, 'template_crop_size', None)
  return size_fn(config) if size_fn else config.model.template_size


class FlatFunctions:
  """The template function and the step over flat lists of arrays.

  Attributes:
    template: fn(z_crop, z_box) -> tuple of template leaves.
    step: fn(*templates, x_crop, center, size, origin, scale, frame_size)
      -> tuple (new_center, new_size, *outputs in ``output_names`` order).
    template_specs / template_names: its inputs' ShapeDtypeStructs and names.
    leaf_specs: the template leaves (leading axis 1).
    output_names: the step's outputs after ``new_center``, ``new_size``.
  """

  def __init__(self, config, variables):
    template_fn, track_batch = step_ops.make_batch_fns(config)
    variables = jax.tree.map(jnp.asarray, variables)
    m = config.model
    side = template_crop_size(config)
    self.template_specs = (jax.ShapeDtypeStruct((side, side, 3), jnp.float32),
                           jax.ShapeDtypeStruct((4,), jnp.float32))
    self.template_names = ('z_crop', 'z_box')
    shapes = jax.eval_shape(template_fn, variables, *self.template_specs)
    leaves, treedef = jax.tree.flatten(shapes)
    self.leaf_specs = tuple(leaves)
    self.search_size = m.search_size

    def template(z_crop, z_box):
      return tuple(jax.tree.leaves(template_fn(variables, z_crop, z_box)))

    def call(*args):
      n = len(leaves)
      templates = jax.tree.unflatten(treedef, args[:n])
      x_crop, center, size, origin, scale, frame_size = args[n:]
      return track_batch(variables, templates, x_crop, step_ops.TrackState(center, size),
                         step_ops.CropGeometry(origin, scale, frame_size))

    keys = tuple(sorted(jax.eval_shape(call, *self.step_specs(1))[1]))

    def run_step(*args):
      new_state, outputs = call(*args)
      return (new_state.center, new_state.size) + tuple(outputs[k] for k in keys)

    self.template = template
    self.step = run_step
    self.output_names = ('new_center', 'new_size') + keys
    self.output_specs = jax.eval_shape(run_step, *self.step_specs(1))

  @property
  def step_names(self):
    n = len(self.leaf_specs)
    return tuple(f'template_{i}' for i in range(n)) + ('x_crop',) + STATE_INPUTS + GEOMETRY_INPUTS

  def step_specs(self, batch):
    """The step's input ShapeDtypeStructs for a batch (an int or a symbolic dim)."""
    sx = self.search_size
    f32 = lambda *shape: jax.ShapeDtypeStruct((batch,) + shape, jnp.float32)
    leaves = tuple(jax.ShapeDtypeStruct((batch,) + s.shape[1:], s.dtype) for s in self.leaf_specs)
    return leaves + (f32(sx, sx, 3), f32(2), f32(2), f32(2), f32(), f32(2))


def _describe(names, specs, batch=None):
  """[{name, shape, dtype}]; ``batch`` replaces the leading dimension's size."""
  return [{'name': n, 'shape': ([batch] + list(s.shape[1:])) if batch else list(s.shape),
           'dtype': np.dtype(s.dtype).name} for n, s in zip(names, specs)]


def project_version():
  try:
    return importlib.metadata.version('spm-jax')
  except importlib.metadata.PackageNotFoundError:
    return 'unknown'


def export_stablehlo(flat, directory):
  """Writes ``template.stablehlo``, ``step.stablehlo`` (batch 1) and ``step_batched.stablehlo``.

  The batch-1 step compiles to the computation of the JAX tracker's own step
  (same boxes, bit for bit); the batched one has a symbolic batch ``b`` (one
  file for any number of targets, as :class:`~spm_jax.tracking.MultiTracker`
  batches them) and may differ from it by float rounding.
  """
  batch, = jax_export.symbolic_shape('b')
  template_file, step_file, batched_file = runtime.FILES['stablehlo']
  exported = {
      template_file: jax_export.export(jax.jit(flat.template))(*flat.template_specs),
      step_file: jax_export.export(jax.jit(flat.step))(*flat.step_specs(1)),
      batched_file: jax_export.export(jax.jit(flat.step))(*flat.step_specs(batch)),
  }
  for name, exp in exported.items():
    _write(os.path.join(directory, name), exp.serialize())


def export_onnx(flat, directory):
  """Writes ``template.onnx`` and ``step.onnx`` (batch 1) with jax2onnx."""
  import onnx  # pylint: disable=import-outside-toplevel
  from jax2onnx import to_onnx  # pylint: disable=import-outside-toplevel
  from spm_jax.deploy import onnx_lowering  # pylint: disable=import-outside-toplevel
  step_specs = flat.step_specs(1)
  jobs = ((runtime.FILES['onnx'][0], flat.template, flat.template_specs, flat.template_names,
           tuple(f'template_{i}' for i in range(len(flat.leaf_specs)))),
          (runtime.FILES['onnx'][1], flat.step, step_specs, flat.step_names, flat.output_names))
  for name, fn, specs, in_names, out_names in jobs:
    model = to_onnx(onnx_lowering.onnx_ready(fn, *specs), list(specs),
                    model_name=name.split('.')[0], input_names=list(in_names),
                    output_names=list(out_names))
    _write(os.path.join(directory, name), model.SerializeToString())
    onnx.checker.check_model(os.path.join(directory, name))


def _write(path, data):
  tmp = path + '.tmp'
  with open(tmp, 'wb') as f:
    f.write(data)
  os.replace(tmp, path)


def metadata(config, flat, formats, seconds):
  """The ``export.json`` dict (see the module docstring)."""
  m = config.model
  leaves = tuple(f'template_{i}' for i in range(len(flat.leaf_specs)))
  return {
      'format_version': 1,
      'formats': list(formats),
      'files': {f: list(runtime.FILES[f]) for f in formats},
      'export_seconds': {f: round(seconds[f], 2) for f in formats},
      'project_version': project_version(),
      'jax_version': jax.__version__,
      'variables': 'baked into each file as constants',
      'template': {
          'inputs': _describe(flat.template_names, flat.template_specs),
          'outputs': _describe(leaves, flat.leaf_specs),
      },
      'step': {
          'batch': {'step.stablehlo': 1, 'step_batched.stablehlo': 'symbolic (b)',
                    'step.onnx': 1},
          'inputs': _describe(flat.step_names, flat.step_specs(1), batch='b'),
          'outputs': _describe(flat.output_names, flat.output_specs, batch='b'),
      },
      'conventions': {
          'crops': ('float32 RGB, 0..255, HWC; the network normalises in the graph '
                    f'(bgr={bool(m.get("bgr", False))}, pixel_mean={list(m.get("pixel_mean", ()))}); '
                    'uint8 crops cast to float32 give the same values'),
          'template_crop': ('square of side s_z = sqrt((w + p) (h + p)), p = context_amount '
                            '(w + h), around the box centre, resized to template crop size'),
          'search_crop': 's_z * search_size / template_size frame pixels around the state centre',
          'crop_geometry': 'crop = (frame - origin) * scale (origin: frame x, y of the top-left corner)',
          'z_box': 'x1, y1, x2, y2 in template-crop pixels',
          'state': 'center cx, cy and size w, h in frame pixels (float32)',
          'box': 'x, y, w, h in frame pixels, 0-based, continuous (the box spans [x, x + w])',
          'template_crop_size': template_crop_size(config),
          'template_size': int(m.template_size),
          'search_size': int(m.search_size),
          'context_amount': float(m.context_amount),
      },
      'config': json.loads(config.to_json_best_effort()),
  }


def export(config, variables, directory, formats=('stablehlo', 'onnx')):
  """Exports the tracking functions of ``config`` + ``variables`` into ``directory``.

  Args:
    config: full config (the model folder's ``config.json``).
    variables: its Flax variables.
    directory: output folder (created if needed).
    formats: any of 'stablehlo', 'onnx'.

  Returns:
    the metadata dict written to ``export.json``.
  """
  bad = [f for f in formats if f not in runtime.FILES]
  if bad or not formats:
    raise ValueError(f'export formats must be among {sorted(runtime.FILES)}, got {list(formats)}')
  os.makedirs(directory, exist_ok=True)
  flat = FlatFunctions(config, variables)
  writers = {'stablehlo': export_stablehlo, 'onnx': export_onnx}
  seconds = {}
  for f in formats:
    start = time.perf_counter()
    writers[f](flat, directory)
    seconds[f] = time.perf_counter() - start
  meta = metadata(config, flat, formats, seconds)
  _write(os.path.join(directory, runtime.METADATA_FILE), json.dumps(meta, indent=2).encode())
  return meta
