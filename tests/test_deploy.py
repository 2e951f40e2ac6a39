"""Exported tracking functions (StableHLO, ONNX) against the JAX tracker and NumPy."""

import json
import os

import jax
from jax import lax
import jax.numpy as jnp
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import export, models
from spm_jax.data import synthetic
from spm_jax.deploy import compare, exporter, onnx_lowering, runtime
from spm_jax.tracking import Tracker, step as step_ops

spm_alexnet = config_file.load_module('spm_alexnet')

HAVE_ONNX = all(__import__('importlib').util.find_spec(m) for m in ('jax2onnx', 'onnxruntime'))
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason='jax2onnx / onnxruntime not installed '
                                '(the export extra)')
NUM_FRAMES = 100
TOL_PX = 1e-2
# Frames whose candidates differ only by anchors of equal CM score (spm_jax.deploy.compare);
# on this video: 0 for StableHLO, 4 of 99 for ONNX with runlocal random weights.
MAX_TIE_FRAMES = 5


def _runlocal():
  config = spm_alexnet.get_config('runlocal')
  return config, models.init_variables(config, jax.random.key(config.seed))


def _default():
  """The embedded default model (any trained model: the checks are agreement with JAX)."""
  return export.load_checked('default')


@pytest.fixture(scope='module')
def video():
  seq = synthetic.generate_sequence(3, num_frames=NUM_FRAMES)
  return seq.frames, tuple(float(v) for v in seq.boxes[0][0])


# ---------------------------------------------------- rewrites vs NumPy ---


def _through_rewrites(fn, *args):
  """``fn`` evaluated by :func:`onnx_lowering.onnx_ready` (and ONNX when installed)."""
  specs = [jax.ShapeDtypeStruct(np.shape(a), np.asarray(a).dtype) for a in args]
  ready = onnx_lowering.onnx_ready(fn, *specs)
  outs = [jax.device_get(jax.jit(ready)(*args))]
  if HAVE_ONNX:
    import onnxruntime
    from jax2onnx import to_onnx
    model = to_onnx(ready, specs)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=['CPUExecutionProvider'])
    names = [i.name for i in session.get_inputs()]
    outs.append(tuple(session.run(None, dict(zip(names, args)))))
  return outs


def test_window_scatter_add_matches_numpy():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2, 6, 6, 3)).astype(np.float32)
  u = rng.normal(size=(2, 5, 4, 3)).astype(np.float32)
  want = x.astype(np.float64)
  want[:, 1:6, 0:4] += u
  for out in _through_rewrites(lambda a, b: (a.at[:, 1:6, 0:4].add(b),), x, u):
    np.testing.assert_allclose(out[0], want, atol=1e-6)


def test_vmapped_element_set_and_gather_match_numpy():
  rng = np.random.default_rng(1)
  alive = rng.random((3, 10)) > 0.3
  scores = rng.normal(size=(3, 10)).astype(np.float32)
  boxes = rng.normal(size=(3, 10, 4)).astype(np.float32)

  def per_row(a, s, b):
    i = jnp.argmax(s)
    return a.at[i].set(False), b[i], jnp.where(a[i], s, -s)

  best = scores.argmax(1)
  want_alive = alive.copy()
  want_alive[np.arange(3), best] = False
  want_box = boxes[np.arange(3), best]
  want_s = np.where(alive[np.arange(3), best][:, None], scores, -scores)
  for out in _through_rewrites(lambda a, s, b: jax.vmap(per_row)(a, s, b), alive, scores, boxes):
    np.testing.assert_array_equal(out[0], want_alive)
    np.testing.assert_array_equal(out[1], want_box)
    np.testing.assert_array_equal(out[2], want_s)


def test_nhwc_max_pool_and_scan_match_numpy():
  rng = np.random.default_rng(2)
  x = rng.normal(size=(1, 7, 7, 2)).astype(np.float32)

  def fn(x):
    pooled = lax.reduce_window(x, -jnp.inf, lax.max, (1, 3, 3, 1), (1, 2, 2, 1),
                               ((0, 0), (1, 1), (1, 1), (0, 0)))
    total, running = lax.scan(lambda c, v: (c + v, c), jnp.zeros((2,)), x[0, 0])
    return pooled, total, running

  padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)),
                  constant_values=-np.inf)
  want = np.array([[[padded[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, c].max() for c in range(2)]
                    for j in range(4)] for i in range(4)])[None]
  row = x[0, 0].astype(np.float64)
  for out in _through_rewrites(fn, x):
    np.testing.assert_allclose(out[0], want, atol=1e-6)
    np.testing.assert_allclose(out[1], row.sum(0), atol=1e-5)
    np.testing.assert_allclose(out[2], np.cumsum(row, 0) - row, atol=1e-5)


# --------------------------------------------------- exported trackers ---


def _check_open_loop(results):
  for name, result in results.items():
    summary = result.summary()
    assert summary['frames'] == NUM_FRAMES - 1, name
    assert summary['max_box_diff_px'] <= TOL_PX, (name, summary)
    assert summary['chosen_mismatches'] == 0, (name, summary)
    assert summary['candidate_mismatches'] == 0, (name, summary)
    assert summary['tie_frames'] <= MAX_TIE_FRAMES, (name, summary)


@pytest.fixture(scope='module')
def runlocal_stablehlo(tmp_path_factory):
  config, variables = _runlocal()
  folder = str(tmp_path_factory.mktemp('runlocal_stablehlo'))
  exporter.export(config, variables, folder, formats=('stablehlo',))
  return config, variables, folder


def test_metadata_describes_the_signature(runlocal_stablehlo):
  config, _, folder = runlocal_stablehlo
  with open(os.path.join(folder, runtime.METADATA_FILE)) as f:
    meta = json.load(f)
  inputs = {i['name']: i for i in meta['step']['inputs']}
  assert inputs['x_crop']['shape'] == ['b', 271, 271, 3]  # sec. 4.3 search crop
  assert inputs['x_crop']['dtype'] == 'float32'
  assert inputs['scale']['shape'] == ['b']
  # sec. 4.1: a 127x127 template crop; the release's procedure crops the template at 271.
  assert meta['template']['inputs'][0]['shape'] in ([127, 127, 3], [271, 271, 3])
  outputs = [o['name'] for o in meta['step']['outputs']]
  assert outputs[:2] == ['new_center', 'new_size'] and 'box' in outputs and 'chosen' in outputs
  assert meta['config']['model']['backbone']['channels'] == list(config.model.backbone.channels)
  assert meta['formats'] == ['stablehlo'] and meta['project_version']


@pytest.mark.slow
def test_stablehlo_tracker_matches_jax_in_open_loop(runlocal_stablehlo, video):
  config, variables, folder = runlocal_stablehlo
  frames, box = video
  results = compare.open_loop(Tracker(config, variables),
                              {'stablehlo': runtime.load_tracker(folder, 'stablehlo')},
                              frames, box)
  _check_open_loop(results)


def test_stablehlo_step_batch_is_symbolic(runlocal_stablehlo, video):
  """Two targets through the deserialised step equal the JAX batched step."""
  config, variables, folder = runlocal_stablehlo
  frames, box = video
  jax_tracker = Tracker(config, variables)
  jax_tracker.init(frames[0], box)
  fns = runtime.ExportedFunctions(folder, 'stablehlo')
  fns._step = runtime._stablehlo_runner(os.path.join(folder, 'step_batched.stablehlo'))  # pylint: disable=protected-access
  leaves = [np.asarray(l) for l in jax.tree.leaves(jax_tracker._template)]  # pylint: disable=protected-access
  rng = np.random.default_rng(0)
  crops = rng.integers(0, 256, (2, 271, 271, 3)).astype(np.float32)
  center = np.array([[160, 120], [100, 90]], np.float32)
  size = np.array([[30, 40], [50, 20]], np.float32)
  origin = np.array([[100, 60], [20, 30]], np.float32)
  scale = np.array([2.0, 1.5], np.float32)
  frame_size = np.array([[320, 240], [320, 240]], np.float32)
  two = [np.concatenate([l, l]) for l in leaves]
  got = fns._step(two + [crops, center, size, origin, scale, frame_size])  # pylint: disable=protected-access
  _, track_batch = step_ops.make_batch_fns(config)
  template = jax.tree.map(lambda a: jnp.concatenate([a, a]), jax_tracker._template)  # pylint: disable=protected-access
  new_state, outputs = jax.jit(track_batch)(variables, template, crops,
                                            step_ops.TrackState(center, size),
                                            step_ops.CropGeometry(origin, scale, frame_size))
  box_index = fns.output_names.index('box')
  np.testing.assert_allclose(got[box_index], outputs['box'], atol=TOL_PX)
  np.testing.assert_allclose(got[0], new_state.center, atol=TOL_PX)
  np.testing.assert_array_equal(got[fns.output_names.index('chosen')], outputs['chosen'])


@pytest.mark.slow
def test_stablehlo_tracker_matches_jax_for_the_default_model(tmp_path, video):
  config, variables = _default()
  exporter.export(config, variables, str(tmp_path), formats=('stablehlo',))
  frames, box = video
  results = compare.open_loop(Tracker(config, variables),
                              {'stablehlo': runtime.load_tracker(str(tmp_path), 'stablehlo')},
                              frames, box)
  _check_open_loop(results)


@needs_onnx
@pytest.mark.slow
@pytest.mark.parametrize('model', ['paper_runlocal', 'default'])
def test_onnx_tracker_matches_jax_in_open_loop(tmp_path, video, model):
  config, variables = _runlocal() if model == 'paper_runlocal' else _default()
  exporter.export(config, variables, str(tmp_path), formats=('onnx',))
  frames, box = video
  results = compare.open_loop(Tracker(config, variables),
                              {'onnx': runtime.load_tracker(str(tmp_path), 'onnx')}, frames, box)
  _check_open_loop(results)


def test_missing_export_names_the_file(tmp_path):
  with pytest.raises(FileNotFoundError, match='export.json'):
    runtime.load_tracker(str(tmp_path), 'onnx')


def test_unknown_backend_is_rejected(runlocal_stablehlo):
  with pytest.raises(ValueError, match='backend must be one of'):
    runtime.load_tracker(runlocal_stablehlo[2], 'tflite')
  with pytest.raises(ValueError, match='holds no onnx export'):
    runtime.load_tracker(runlocal_stablehlo[2], 'onnx')
