"""Speed of SPM-Tracker on this machine: one table, and the figures as JSON.

:func:`run` measures, :func:`format_table` lays out; ``scripts/benchmark.py``
is the command line. Rows (``docs/benchmarks.md`` records the results):

* peak GFLOP/s of this machine: the best of a large matmul and a large conv;
* per-frame latency (median, p90 over ``frames`` frames after warm-up, with
  ``block_until_ready``) of the CM-only step and the full SPM step
  (``variant=series_parallel``), measured interleaved; their compile times,
  FLOPs per frame from XLA's cost analysis and achieved GFLOP/s;
* ``Tracker.update`` end to end (host crop + step + transfers), and the host
  search crop alone as OpenCV samples it and as the release does
  (``tracking.crop_sampling``);
* with ``exported``: the export time of the step as StableHLO and ONNX
  (:mod:`spm_jax.deploy`) and ``Tracker.update`` with the onnxruntime and
  StableHLO backends beside the JAX one, interleaved frame by frame;
* object-frames/s of :class:`spm_jax.tracking.MultiTracker` with 1, 8 and 64
  targets against 64 sequential single trackers;
* training pairs/s (``spm_jax.train``, fake pairs) and input-pipeline
  batches/s (``spm_jax.data.pipeline`` on the procedural ``tiny`` dataset),
  skipped with the reason when unavailable.

Latencies are wall-clock on a machine that may run other jobs: the step rows
interleave the two variants frame by frame so that both see the same load.
"""

import copy
import math
import os
import platform
import tempfile
import time
import traceback

import jax
import jax.numpy as jnp
import numpy as np

# The repository root: relative config paths (configs/...) are also looked up there.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = 'configs/spm_alexnet.py'


# ------------------------------------------------------------------ helpers ---

def load_config(spec):
  """``path/to/config.py[:arg]`` -> ``get_config(arg)``, relative paths also from the repo root."""
  from spm_jax import config_file
  return config_file.load(spec, root=ROOT)


def with_variant(config, variant):
  config = copy.deepcopy(config)
  config.model.variant = variant
  return config


def percentile_ms(seconds, q):
  return float(np.percentile(np.asarray(seconds), q) * 1e3)


def flops_of(compiled):
  """FLOPs of one call from XLA's cost analysis (0 when unavailable)."""
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):
    analysis = analysis[0] if analysis else {}
  return float((analysis or {}).get('flops', 0.0))


def time_calls(fn, n, warmup=2):
  """Wall-clock seconds of ``n`` calls of ``fn()`` (results blocked on)."""
  for _ in range(warmup):
    jax.block_until_ready(fn())
  out = []
  for _ in range(n):
    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    out.append(time.perf_counter() - t0)
  return out


def machine_info():
  cpu = platform.processor() or platform.machine()
  try:
    with open('/proc/cpuinfo', encoding='utf-8') as f:
      for line in f:
        if line.startswith('model name'):
          cpu = line.split(':', 1)[1].strip()
          break
  except OSError:
    pass
  return {'cpu': cpu, 'cores': os.cpu_count(), 'backend': jax.default_backend(),
          'devices': [str(d) for d in jax.devices()], 'jax': jax.__version__}


# --------------------------------------------------------------------- peak ---

def measure_peak(quick):
  """Best GFLOP/s of a large float32 matmul and a large conv (XLA, this backend)."""
  n = 1024 if quick else 2048
  reps = 5 if quick else 10
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
  matmul = jax.jit(jnp.matmul)
  t = np.median(time_calls(lambda: matmul(a, b), reps))
  matmul_gflops = 2 * n ** 3 / t / 1e9

  batch, side, c = (2, 56, 256) if quick else (4, 56, 256)
  x = jax.random.normal(jax.random.key(2), (batch, side, side, c), jnp.float32)
  w = jax.random.normal(jax.random.key(3), (3, 3, c, c), jnp.float32)
  conv = jax.jit(lambda x, w: jax.lax.conv_general_dilated(
      x, w, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')))
  t = np.median(time_calls(lambda: conv(x, w), reps))
  conv_gflops = 2 * batch * side * side * 9 * c * c / t / 1e9
  return {'matmul_gflops': matmul_gflops, 'conv_gflops': conv_gflops,
          'peak_gflops': max(matmul_gflops, conv_gflops)}


# -------------------------------------------------------------------- inputs ---

def make_streams(config, num_streams, num_frames):
  """``num_streams`` generated videos: list of (frames [T, H, W, 3], boxes [T, 4])."""
  from spm_jax.data import synthetic  # pylint: disable=import-outside-toplevel
  out = []
  for seed in range(num_streams):
    seq = synthetic.generate_sequence(seed + 1, num_frames=num_frames)
    out.append((seq.frames, seq.boxes[:, 0].astype(np.float64)))
  return out


def step_inputs(config, variables, template_fn, frames, boxes):
  """The single-target step's arguments for each frame of one stream (GT-centred crops)."""
  from spm_jax.tracking import crop as crop_ops  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import step as step_ops  # pylint: disable=import-outside-toplevel
  m = config.model
  x, y, w, h = boxes[0]
  center = np.array([x + w / 2, y + h / 2])
  side = crop_ops.context_side((w, h), m.context_amount)
  fill = frames[0].reshape(-1, 3).mean(axis=0)
  z_crop, _, scale = crop_ops.crop_square(frames[0], center, side, m.template_size, fill)
  c = m.template_size / 2.0
  z_box = np.array([c - w * scale / 2, c - h * scale / 2, c + w * scale / 2, c + h * scale / 2],
                   np.float32)
  template = template_fn(variables, jnp.asarray(z_crop), jnp.asarray(z_box))
  args = []
  for frame, (x, y, w, h) in zip(frames[1:], boxes[1:]):
    center = np.array([x + w / 2, y + h / 2], np.float32)
    side = crop_ops.context_side((w, h), m.context_amount) * m.search_size / m.template_size
    crop, origin, scale = crop_ops.crop_square(frame, center, side, m.search_size,
                                               frame.reshape(-1, 3).mean(axis=0))
    state = step_ops.TrackState(center, np.array([w, h], np.float32))
    geometry = step_ops.CropGeometry(origin, np.float32(scale),
                                     np.array([frame.shape[1], frame.shape[0]], np.float32))
    args.append((variables, template, crop, state, geometry))
  return args


# --------------------------------------------------------------------- steps ---

def bench_steps(config, variables, streams, num_frames):
  """Latency, compile time and FLOPs of the CM-only and the full SPM step."""
  from spm_jax.tracking import step as step_ops  # pylint: disable=import-outside-toplevel
  frames, boxes = streams[0]
  compiled, inputs, out = {}, {}, {}
  for name, variant in (('cm', 'cm_only'), ('spm', 'series_parallel')):
    template_fn, track_fn = step_ops.make_track_fns(with_variant(config, variant))
    inputs[name] = step_inputs(config, variables, template_fn, frames, boxes)
    t0 = time.perf_counter()
    compiled[name] = track_fn.batched.lower(*inputs[name][0]).compile()
    out[f'{name}_compile_s'] = time.perf_counter() - t0
    out[f'{name}_gflop_per_frame'] = flops_of(compiled[name]) / 1e9
    for args in inputs[name][:3]:  # warm-up
      jax.block_until_ready(compiled[name](*args))
  times = {name: [] for name in compiled}
  for i in range(num_frames):  # interleaved: both variants see the same load
    for name, fn in compiled.items():
      args = inputs[name][i % len(inputs[name])]
      t0 = time.perf_counter()
      jax.block_until_ready(fn(*args))
      times[name].append(time.perf_counter() - t0)
  for name, t in times.items():
    out[f'{name}_step_ms'] = percentile_ms(t, 50)
    out[f'{name}_step_p90_ms'] = percentile_ms(t, 90)
    out[f'{name}_gflops'] = out[f'{name}_gflop_per_frame'] / (out[f'{name}_step_ms'] / 1e3)
  out['fm_overhead_ratio'] = out['spm_step_ms'] / out['cm_step_ms']
  return out


def bench_tracker(config, variables, streams, num_frames):
  """``Tracker.update`` end to end (crop on the host, step, transfers), median ms."""
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  frames, boxes = streams[0]
  tracker = Tracker(with_variant(config, 'series_parallel'), variables)
  tracker.init(frames[0], boxes[0])
  tracker.update(frames[1])  # compile
  times = []
  for i in range(num_frames):
    frame = frames[1 + i % (len(frames) - 1)]
    t0 = time.perf_counter()
    tracker.update(frame)
    times.append(time.perf_counter() - t0)
  out = {'tracker_update_ms': percentile_ms(times, 50),
         'tracker_update_p90_ms': percentile_ms(times, 90)}
  out.update(bench_crops(config, frames, boxes, num_frames))
  return out


def bench_embedded(streams, num_frames):
  """``Tracker.update`` median ms of every embedded model, interleaved on the same frames."""
  from spm_jax import embedded_models  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  frames, boxes = streams[0]
  trackers = {}
  for name in embedded_models.MODELS:
    trackers[name] = Tracker.pretrained(name)
    trackers[name].init(frames[0], boxes[0])
    trackers[name].update(frames[1])  # compile
  times = {name: [] for name in trackers}
  for i in range(num_frames):  # interleaved: every model sees the same load
    frame = frames[1 + i % (len(frames) - 1)]
    for name, tracker in trackers.items():
      t0 = time.perf_counter()
      tracker.update(frame)
      times[name].append(time.perf_counter() - t0)
  return {f'embedded_{name}_update_ms': percentile_ms(t, 50) for name, t in times.items()}


def bench_crops(config, frames, boxes, num_frames):
  """Median ms of one search crop on the host, per ``tracking.crop_sampling``."""
  from spm_jax.data import image_io  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import crop as crop_ops  # pylint: disable=import-outside-toplevel
  m = config.model
  out = {}
  for sampling in ('opencv', 'release'):
    times = []
    for i in range(num_frames):
      frame = frames[1 + i % (len(frames) - 1)]
      x, y, w, h = boxes[1 + i % (len(frames) - 1)]
      side = crop_ops.context_side((w, h), m.context_amount) * m.search_size / m.template_size
      t0 = time.perf_counter()
      crop_ops.crop_square_by(sampling, frame, (x + w / 2, y + h / 2), side, m.search_size,
                              image_io.frame_mean(frame))
      times.append(time.perf_counter() - t0)
    out[f'crop_{sampling}_ms'] = percentile_ms(times, 50)
  return out


def bench_exported(config, variables, streams, num_frames):
  """Export times and ``Tracker.update`` of the exported backends beside JAX, median ms.

  The three trackers track the same frames, interleaved frame by frame (each
  from its own state), so that all see the same machine load.
  """
  from spm_jax.deploy import exporter, runtime  # pylint: disable=import-outside-toplevel
  from spm_jax.tracking import Tracker  # pylint: disable=import-outside-toplevel
  config = with_variant(config, 'series_parallel')
  out = {}
  with tempfile.TemporaryDirectory() as folder:
    meta = exporter.export(config, variables, folder)
    for fmt, seconds in meta['export_seconds'].items():
      out[f'export_{fmt}_s'] = seconds
    trackers = {'jax': Tracker(config, variables),
                'onnx': runtime.load_tracker(folder, 'onnx'),
                'stablehlo': runtime.load_tracker(folder, 'stablehlo')}
    frames, boxes = streams[0]
    for tracker in trackers.values():
      tracker.init(frames[0], boxes[0])
      tracker.update(frames[1])  # compile / first run
    times = {name: [] for name in trackers}
    for i in range(num_frames):
      frame = frames[1 + i % (len(frames) - 1)]
      for name, tracker in trackers.items():
        t0 = time.perf_counter()
        tracker.update(frame)
        times[name].append(time.perf_counter() - t0)
  for name, t in times.items():
    out[f'exported_update_{name}_ms'] = percentile_ms(t, 50)
  return out


# --------------------------------------------------------------------- multi ---

def bench_multi(config, variables, streams, counts, rounds):
  """Object-frames/s of MultiTracker with ``counts`` targets vs sequential Trackers.

  Slot ``i`` follows stream ``i % len(streams)``. Every round advances every
  target by one frame (crops on the host included). The 64-target batched
  and sequential rounds are interleaved.
  """
  from spm_jax.tracking import MultiTracker, Tracker, make_track_fns  # pylint: disable=import-outside-toplevel
  config = with_variant(config, 'series_parallel')
  num_frames = len(streams[0][0])
  frame_of = lambda slot, t: streams[slot % len(streams)][0][t % num_frames]
  box_of = lambda slot: streams[slot % len(streams)][1][0]

  def batched_runner(n):
    multi = MultiTracker(config, variables, capacity=n)
    for slot in range(n):
      multi.add(slot, frame_of(slot, 0), box_of(slot))
    state = {'t': 1}

    def run():
      t = state['t']
      multi.update({slot: frame_of(slot, t) for slot in range(n)})
      state['t'] = t + 1 if t + 1 < num_frames else 1
    return run

  def sequential_runner(n):
    fns = make_track_fns(config)
    trackers = []
    for slot in range(n):
      tracker = Tracker(config, variables, fns=fns)
      tracker.init(frame_of(slot, 0), box_of(slot))
      trackers.append(tracker)
    state = {'t': 1}

    def run():
      t = state['t']
      for slot, tracker in enumerate(trackers):
        tracker.update(frame_of(slot, t))
      state['t'] = t + 1 if t + 1 < num_frames else 1
    return run

  out = {}
  biggest = max(counts)
  runners = {}
  for n in counts:
    runners[f'multi{n}'] = (n, batched_runner(n))
  runners[f'sequential{biggest}'] = (biggest, sequential_runner(biggest))
  for _, run in runners.values():
    run()  # compile and warm up
  times = {k: [] for k in runners}
  for _ in range(rounds):
    for key, (n, run) in runners.items():
      t0 = time.perf_counter()
      run()
      times[key].append(time.perf_counter() - t0)
  for key, (n, _) in runners.items():
    out[f'{key}_object_fps'] = n / float(np.median(times[key]))
  out[f'multi{biggest}_speedup'] = (out[f'multi{biggest}_object_fps']
                                    / out[f'sequential{biggest}_object_fps'])
  return out


# ------------------------------------------------------------------ training ---

def bench_train(spec, steps):
  """Training pairs/s of the config ``spec`` on fake pairs (``spm_jax.train``)."""
  from spm_jax.train import fake_data, trainer  # pylint: disable=import-outside-toplevel
  from spm_jax.train import train_step as step_lib  # pylint: disable=import-outside-toplevel
  config = trainer.finalize_config(load_config(spec))
  n_local = jax.local_device_count()
  root = jax.random.PRNGKey(config.seed)
  init_rng, step_rng = jax.random.split(root)
  state, _ = trainer.make_state(config, init_rng)
  p_step = step_lib.make_p_train_step(config)
  p_state = trainer.replicate(state)
  p_rng = np.broadcast_to(np.asarray(step_rng), (n_local,) + np.shape(step_rng))
  data = fake_data.FakePairs(config.model, config.batch_size, seed=config.seed)
  batches = [step_lib.shard_batch(next(data), n_local) for _ in range(2)]
  t0 = time.perf_counter()
  p_state, metrics = p_step(p_state, batches[0], p_rng)
  jax.block_until_ready(metrics)
  compile_s = time.perf_counter() - t0
  times = []
  for i in range(steps):
    t0 = time.perf_counter()
    p_state, metrics = p_step(p_state, batches[i % 2], p_rng)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - t0)
  return {'pairs_per_s': config.batch_size / float(np.median(times)), 'compile_s': compile_s,
          'batch_size': int(config.batch_size)}


def bench_pipeline(config, num_batches, batch_size):
  """Batches/s of the grain input pipeline on the procedural ``tiny`` dataset."""
  from spm_jax.data import pipeline, prepare  # pylint: disable=import-outside-toplevel
  with tempfile.TemporaryDirectory() as data_dir:
    prepare.prepare('spm_synthetic_videos/tiny', data_dir)
    data = pipeline.default_data_config()
    data.data_dir = data_dir
    data.videos = ('spm_synthetic_videos/tiny',)
    data.stills = ()
    data.batch_size = batch_size
    data.pairs_per_epoch = max(64, 4 * batch_size * (num_batches + 1))
    it = iter(pipeline.make_loader(data, config.model, seed=0))
    next(it)  # warm-up
    t0 = time.perf_counter()
    for _ in range(num_batches):
      next(it)
    seconds = time.perf_counter() - t0
  return {'pipeline_batches_per_s': num_batches / seconds,
          'pipeline_pairs_per_s': num_batches * batch_size / seconds,
          'pipeline_batch_size': batch_size}


def optional(name, fn, results, skipped):
  """Runs an optional row; on failure records why instead of failing the run."""
  try:
    results.update(fn())
  except Exception as e:  # pylint: disable=broad-except
    reason = f'{type(e).__name__}: {e}'.splitlines()[0][:200]
    skipped[name] = reason
    if os.environ.get('SPM_BENCH_DEBUG'):
      traceback.print_exc()


# --------------------------------------------------------------------- table ---

def format_table(r):
  """The figures as one aligned text table."""
  def f(key, fmt='{:.1f}'):
    v = r.get(key)
    return fmt.format(v) if isinstance(v, (int, float)) else 'n/a'

  rows = [
      ('machine', f"{r['machine']['cpu']}, {r['machine']['cores']} cores, "
                  f"{r['machine']['backend']}, jax {r['machine']['jax']}"),
      ('config', r['config']),
      ('peak GFLOP/s (max of matmul, conv)',
       f"{f('peak_gflops')} (matmul {f('matmul_gflops')}, conv {f('conv_gflops')})"),
  ]
  for name, label in (('cm', 'CM-only step'), ('spm', 'full SPM step')):
    rows.append((f'{label}: ms median / p90',
                 f"{f(name + '_step_ms', '{:.2f}')} / {f(name + '_step_p90_ms', '{:.2f}')} "
                 f"over {r['frames']} frames"))
    rows.append((f'{label}: compile s', f(name + '_compile_s', '{:.2f}')))
    rows.append((f'{label}: GFLOP / frame, GFLOP/s, % of peak',
                 f"{f(name + '_gflop_per_frame', '{:.3f}')}, {f(name + '_gflops')}, "
                 f"{f(name + '_peak_pct')} %"))
  rows.append(('FM overhead (SPM / CM step)', f('fm_overhead_ratio', '{:.3f}')))
  rows.append(('Tracker.update ms median / p90',
               f"{f('tracker_update_ms', '{:.2f}')} / {f('tracker_update_p90_ms', '{:.2f}')}"))
  for key in sorted(k for k in r if k.startswith('embedded_') and k.endswith('_update_ms')):
    name = key[len('embedded_'):-len('_update_ms')]
    rows.append((f'Tracker.update ms, embedded model {name!r} (interleaved)',
                 f"{f(key, '{:.2f}')} ({1e3 / r[key]:.0f} frames/s)"))
  rows.append(('search crop ms: OpenCV / release sampling',
               f"{f('crop_opencv_ms', '{:.2f}')} / {f('crop_release_ms', '{:.2f}')}"))
  if 'exported_update_onnx_ms' in r:
    rows.append(('Tracker.update ms, interleaved: JAX / onnxruntime / StableHLO',
                 f"{f('exported_update_jax_ms', '{:.2f}')} / "
                 f"{f('exported_update_onnx_ms', '{:.2f}')} / "
                 f"{f('exported_update_stablehlo_ms', '{:.2f}')}"))
    rows.append(('export s: StableHLO / ONNX',
                 f"{f('export_stablehlo_s')} / {f('export_onnx_s')}"))
  for key in sorted(k for k in r if k.endswith('_object_fps')):
    rows.append((f"{key[:-len('_object_fps')]}: object-frames/s", f(key, '{:.2f}')))
  rows.append(('batched 64 / sequential 64', f('multi64_speedup', '{:.2f}x')))
  for key in sorted(k for k in r if k.startswith('train_pairs_per_s')):
    rows.append((key.replace('train_pairs_per_s_', 'training pairs/s, '), f(key, '{:.2f}')))
  rows.append(('input pipeline batches/s (pairs/s)',
               f"{f('pipeline_batches_per_s', '{:.2f}')} ({f('pipeline_pairs_per_s', '{:.1f}')}, "
               f"batch {r.get('pipeline_batch_size', 'n/a')})"))
  for name, reason in r.get('skipped', {}).items():
    rows.append((f'skipped: {name}', reason))
  width = max(len(k) for k, _ in rows)
  lines = [f'| {"figure".ljust(width)} | value |', f'|{"-" * (width + 2)}|-------|']
  lines += [f'| {k.ljust(width)} | {v} |' for k, v in rows]
  return '\n'.join(lines)


# ----------------------------------------------------------------------- run ---

def run(config, spec, *, quick=False, frames=None, rounds=None, train=True, exported=False):
  """Every row of the module docstring; returns the figures (dict, ``format_table``'s input).

  Args:
    config: the tracking config measured; spec: its ``path[:arg]`` (recorded).
    quick: fewer frames, rounds and streams, and only the tiny training row.
    frames: timed frames per step variant (default 200, 30 when quick).
    rounds: timed rounds of the multi-object rows (default 3, 2 when quick).
    train: measure training pairs/s; exported: the StableHLO / ONNX rows.
  """
  from spm_jax import models  # pylint: disable=import-outside-toplevel
  frames = frames or (30 if quick else 200)
  rounds = rounds or (2 if quick else 3)
  t_start = time.perf_counter()
  results = {'config': spec, 'quick': bool(quick), 'frames': frames, 'rounds': rounds,
             'machine': machine_info()}
  skipped, phases = {}, {}

  def phase(name, fn):
    t0 = time.perf_counter()
    out = fn()
    phases[name] = time.perf_counter() - t0
    return out

  results.update(phase('peak', lambda: measure_peak(quick)))
  variables = phase('init', lambda: jax.device_put(
      models.init_variables(config, jax.random.key(config.seed))))
  streams = phase('streams', lambda: make_streams(config, 4, 8 if quick else 16))
  results.update(phase('steps', lambda: bench_steps(config, variables, streams, frames)))
  for name in ('cm', 'spm'):
    results[f'{name}_peak_pct'] = 100 * results[f'{name}_gflops'] / results['peak_gflops']
  results.update(phase('tracker', lambda: bench_tracker(config, variables, streams,
                                                        max(10, frames // 4))))
  results.update(phase('embedded', lambda: bench_embedded(streams, max(10, frames // 4))))
  if exported:
    phase('exported', lambda: optional(
        'exported trackers', lambda: bench_exported(config, variables, streams,
                                                    max(10, frames // 4)), results, skipped))
  results.update(phase('multi', lambda: bench_multi(config, variables, streams, (1, 8, 64),
                                                    rounds)))
  if train:
    train_specs = [('tiny', 'configs/synthetic.py:runlocal')]
    if not quick:
      train_specs.append(('synthetic', 'configs/synthetic.py'))
    for name, train_spec in train_specs:
      phase(f'train_{name}', lambda s=train_spec, n=name: optional(
          f'training ({s})',
          lambda: {f'train_pairs_per_s_{n}': bench_train(s, 2 if quick else 4)['pairs_per_s']},
          results, skipped))
  phase('pipeline', lambda: optional(
      'input pipeline', lambda: bench_pipeline(config, 3 if quick else 10,
                                               4 if quick else 8), results, skipped))
  results['skipped'] = skipped
  results['phase_s'] = phases
  results['total_s'] = time.perf_counter() - t_start
  return results


def non_finite(results):
  """Names of the figures that are not finite numbers."""
  return [k for k, v in results.items() if isinstance(v, float) and not math.isfinite(v)]
