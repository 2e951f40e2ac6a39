"""VOT short-term supervised (reset-based) protocol: accuracy, robustness, EAO.

Protocol (VOT 2016-2018 baseline experiment, as the VOT toolkit and pysot run
it): the tracker is initialised on the ground truth; on every later frame the
overlap between its box and the ground-truth polygon is measured (polygon vs
box, both clipped to the image); a frame with overlap <= 0 is a failure, and the
tracker is re-initialised ``SKIP = 5`` frames later. Frames are coded in the
trajectory as ``INIT`` (1), ``FAILURE`` (2) and ``SKIPPED`` (0), as in VOT's
result files.

* Accuracy: mean overlap over tracked frames, leaving out the ``BURNIN = 10``
  frames that start at each (re)initialisation; per sequence, and over the
  dataset frame-weighted (all frames pooled, as pysot reports it).
* Robustness: failures (summed over sequences); ``robustness`` is failures
  per 100 frames (pysot's "R", e.g. 0.276 for SiamRPN on VOT2018).
* EAO: each run is cut into segments from one initialisation to the next; a
  segment that ended in a failure is padded with zeros to the longest sequence,
  the last one is not padded. ``curve[L-1]`` is, over segments at least L frames
  long (or failed), the mean of their overlaps on frames 1 .. L-1 (the
  initialisation frame left out); EAO is the mean of ``curve`` over the year's
  sequence-length range (``EAO_RANGES``). This follows pysot's
  ``eao_benchmark`` with equal segment weights.
"""

import dataclasses
import os
import time

import numpy as np

from spm_jax import cli
from spm_jax.evaluation import datasets as datasets_lib

SKIP = 5     # Frames between a failure and the re-initialisation.
BURNIN = 10  # Frames from each initialisation left out of accuracy.
INIT, FAILURE, SKIPPED = 1, 2, 0
# Sequence-length range [low, high] of the EAO average, per challenge year.
EAO_RANGES = {2016: (108, 371), 2017: (100, 356), 2018: (100, 356),
              2019: (46, 291)}


# ---------------------------------------------------------------------------
# Polygon-vs-box overlap.
# ---------------------------------------------------------------------------
def _clip(points, x1, y1, x2, y2):
  """Sutherland-Hodgman clip of a polygon [K, 2] to a rectangle."""
  def clip_edge(pts, inside, cross):
    out = []
    for i in range(len(pts)):
      cur, prev = pts[i], pts[i - 1]
      if inside(cur):
        if not inside(prev):
          out.append(cross(prev, cur))
        out.append(cur)
      elif inside(prev):
        out.append(cross(prev, cur))
    return out

  def at_x(x):
    return lambda p, q: (x, p[1] + (q[1] - p[1]) * (x - p[0]) / (q[0] - p[0]))

  def at_y(y):
    return lambda p, q: (p[0] + (q[0] - p[0]) * (y - p[1]) / (q[1] - p[1]), y)

  pts = [tuple(p) for p in points]
  for inside, cross in ((lambda p: p[0] >= x1, at_x(x1)),
                        (lambda p: p[0] <= x2, at_x(x2)),
                        (lambda p: p[1] >= y1, at_y(y1)),
                        (lambda p: p[1] <= y2, at_y(y2))):
    if not pts:
      break
    pts = clip_edge(pts, inside, cross)
  return pts


def _area(pts):
  """Shoelace area of a simple polygon given as a list of (x, y)."""
  if len(pts) < 3:
    return 0.0
  p = np.asarray(pts, dtype=np.float64)
  x, y = p[:, 0], p[:, 1]
  return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def overlap(box, polygon, bounds=None):
  """IoU of a box and a polygon (VOT region overlap), optionally in bounds.

  Args:
    box: [4] x, y, w, h (pixels, top-left corner).
    polygon: [8] x1, y1, ..., x4, y4, or [4] x, y, w, h.
    bounds: optional (width, height); both regions are first clipped to
      [0, width] x [0, height] as the VOT toolkit does.

  Returns:
    float in [0, 1]; 0 when the union is empty or a value is NaN.
  """
  box = np.asarray(box, dtype=np.float64).reshape(4)
  polygon = np.asarray(polygon, dtype=np.float64).reshape(-1)
  if polygon.size == 4:
    polygon = datasets_lib.box_to_polygon(polygon)[0]
  if np.isnan(box).any() or np.isnan(polygon).any():
    return 0.0
  bx1, by1 = box[0], box[1]
  bx2, by2 = box[0] + max(box[2], 0.0), box[1] + max(box[3], 0.0)
  poly = polygon.reshape(4, 2)
  if bounds is not None:
    w, h = bounds
    poly = _clip(poly, 0.0, 0.0, w, h)
    bx1, by1 = max(bx1, 0.0), max(by1, 0.0)
    bx2, by2 = min(bx2, w), min(by2, h)
  box_area = max(bx2 - bx1, 0.0) * max(by2 - by1, 0.0)
  poly_area = _area(poly)
  inter = _area(_clip(poly, bx1, by1, bx2, by2)) if box_area > 0 else 0.0
  union = box_area + poly_area - inter
  return float(np.clip(inter / union, 0.0, 1.0)) if union > 0 else 0.0


# ---------------------------------------------------------------------------
# Supervised run.
# ---------------------------------------------------------------------------
@dataclasses.dataclass
class SupervisedRun:
  """One supervised run over a sequence.

  Attributes:
    name: sequence name.
    boxes: [N, 4] x, y, w, h (pixels); NaN on INIT / FAILURE / SKIPPED frames.
    codes: [N] int; INIT, FAILURE, SKIPPED, or -1 on tracked frames.
    overlaps: [N] float; NaN where ``codes != -1``.
    times: [N] seconds of init / update.
  """
  name: str
  boxes: np.ndarray
  codes: np.ndarray
  overlaps: np.ndarray
  times: np.ndarray

  @property
  def failures(self):
    """Frame indices of the failures."""
    return np.flatnonzero(self.codes == FAILURE).tolist()


def run_supervised(tracker, seq, skip=SKIP, bounded=True):
  """VOT baseline experiment on one sequence.

  Args:
    tracker: object with ``init(frame, box)`` / ``update(frame) -> (box,
      score)``, boxes (x, y, w, h) pixels, frames uint8 [H, W, 3] RGB.
    seq: ``datasets.Sequence`` with ``polygons`` [N, 8] (or only ``gt``).
    skip: frames from a failure to the re-initialisation.
    bounded: clip regions to the image when measuring overlap.

  Returns:
    SupervisedRun.
  """
  n = len(seq)
  polys = seq.polygons if seq.polygons is not None else \
      datasets_lib.box_to_polygon(seq.gt)
  boxes = np.full((n, 4), np.nan)
  codes = np.full(n, SKIPPED, dtype=np.int64)
  overlaps = np.full(n, np.nan)
  times = np.zeros(n)
  i = 0
  while i < n:
    frame = seq.frame(i)
    start = time.perf_counter()
    tracker.init(frame, tuple(float(v) for v in seq.to_image(seq.gt[i])))
    times[i] = time.perf_counter() - start
    codes[i] = INIT
    bounds = (frame.shape[1], frame.shape[0]) if bounded else None
    j = i + 1
    while j < n:
      cli.raise_if_interrupted()  # Ctrl-C: stop between frames, this sequence unwritten.
      frame = seq.frame(j)
      start = time.perf_counter()
      box, _ = tracker.update(frame)
      times[j] = time.perf_counter() - start
      box = seq.from_image(np.asarray(box, float).reshape(4))  # VOT: origin 0, the files' numbers.
      o = overlap(box, polys[j], bounds)
      if o <= 0:
        codes[j] = FAILURE
        break
      codes[j], boxes[j], overlaps[j] = -1, np.asarray(box, float), o
      j += 1
    i = j + skip if j < n else n
  return SupervisedRun(seq.name, boxes, codes, overlaps, times)


def run_vot(tracker, dataset, result_dir=None, skip=SKIP, progress=True):
  """Supervised runs over a VOT dataset, written in VOT's result layout.

  Writes ``<result_dir>/baseline/<seq>/<seq>_001.txt`` (one line per frame:
  ``1`` init, ``2`` failure, ``0`` skipped, else ``x,y,w,h``) and
  ``<seq>_time.txt``; sequences already written are read back instead of run.

  Args:
    tracker: object with ``init`` / ``update`` (see ``run_supervised``).
    dataset: ``datasets.Dataset`` from ``datasets.vot``.
    result_dir: tracker result folder, or None to keep results in memory.
    skip: frames from a failure to the re-initialisation.
    progress: tqdm bar over sequences.

  Returns:
    list of SupervisedRun, in dataset order.
  """
  import tqdm  # pylint: disable=g-import-not-at-top
  runs = []
  for name in tqdm.tqdm(dataset.names, desc=f'VOT {dataset.name}',
                        disable=not progress):
    path = None
    if result_dir is not None:
      path = os.path.join(result_dir, 'baseline', name, f'{name}_001.txt')
      if os.path.isfile(path):
        runs.append(read_run(path, dataset[name]))
        continue
    run = run_supervised(tracker, dataset[name], skip=skip)
    if path is not None:
      write_run(path, run)
    runs.append(run)
  return runs


def write_run(path, run):
  """Writes a SupervisedRun in VOT's text format (and ``<seq>_time.txt``)."""
  os.makedirs(os.path.dirname(path), exist_ok=True)
  lines = []
  for code, box in zip(run.codes, run.boxes):
    lines.append(','.join(f'{v:.4f}' for v in box) if code == -1
                 else str(int(code)))
  with open(path + '.tmp', 'w') as f:
    f.write('\n'.join(lines) + '\n')
  np.savetxt(os.path.join(os.path.dirname(path), f'{run.name}_time.txt'),
             run.times, fmt='%.8f')
  os.replace(path + '.tmp', path)


def read_run(path, seq, bounded_size=None):
  """Reads a VOT result file back into a SupervisedRun (overlaps recomputed).

  Args:
    path: ``<seq>_001.txt`` in VOT's format.
    seq: the ``datasets.Sequence`` it belongs to.
    bounded_size: (width, height) for the overlap bounds; default: the size of
      the sequence's first frame.
  """
  with open(path) as f:
    lines = [line.strip() for line in f if line.strip()]
  n = len(seq)
  if len(lines) != n:
    raise ValueError(f'{path}: {len(lines)} lines for {n} frames')
  if bounded_size is None:
    h, w = seq.frame(0).shape[:2]
    bounded_size = (w, h)
  polys = seq.polygons if seq.polygons is not None else \
      datasets_lib.box_to_polygon(seq.gt)
  boxes = np.full((n, 4), np.nan)
  codes = np.full(n, -1, dtype=np.int64)
  overlaps = np.full(n, np.nan)
  for i, line in enumerate(lines):
    values = [float(v) for v in line.replace('\t', ',').split(',') if v]
    if len(values) == 1:
      codes[i] = int(values[0])
    elif len(values) == 4:
      boxes[i] = values
      overlaps[i] = overlap(values, polys[i], bounded_size)
    else:
      raise ValueError(f'{path}:{i + 1}: expected 1 or 4 values, got {line!r}')
  return SupervisedRun(seq.name, boxes, codes, overlaps, np.zeros(n))


# ---------------------------------------------------------------------------
# Scores.
# ---------------------------------------------------------------------------
def accuracy_mask(codes, burnin=BURNIN):
  """[N] bool: tracked frames outside the ``burnin`` frames from each init."""
  codes = np.asarray(codes)
  mask = codes == -1
  for i in np.flatnonzero(codes == INIT):
    mask[i:i + burnin] = False
  return mask


def accuracy_robustness(runs, burnin=BURNIN):
  """Accuracy and robustness of supervised runs.

  Args:
    runs: list of SupervisedRun (or objects with ``name``, ``codes``,
      ``overlaps``).
    burnin: frames from each initialisation left out of accuracy.

  Returns:
    dict: 'accuracy' (frame-weighted mean overlap), 'failures' (total),
    'robustness' (failures per 100 frames), 'per_sequence' name ->
    {'accuracy', 'failures'}.
  """
  pooled, total_frames, failures, per_seq = [], 0, 0, {}
  for run in runs:
    mask = accuracy_mask(run.codes, burnin)
    ov = np.asarray(run.overlaps)[mask]
    ov = ov[~np.isnan(ov)]
    nf = int(np.sum(np.asarray(run.codes) == FAILURE))
    per_seq[run.name] = dict(accuracy=float(ov.mean()) if len(ov) else 0.0,
                             failures=nf)
    pooled.append(ov)
    total_frames += len(run.codes)
    failures += nf
  pooled = np.concatenate(pooled) if pooled else np.zeros(0)
  return dict(accuracy=float(pooled.mean()) if len(pooled) else 0.0,
              failures=failures,
              robustness=100.0 * failures / max(total_frames, 1),
              per_sequence=per_seq)


def eao_segments(overlaps, codes, skip=SKIP):
  """Cuts one run into EAO segments.

  Args:
    overlaps: [N] per-frame overlap, NaN on special frames.
    codes: [N] frame codes (INIT, FAILURE, SKIPPED, -1).
    skip: frames between a failure and the re-initialisation.

  Returns:
    list of (segment overlaps [L] with NaN -> 0, failed: bool). A failed
    segment runs from its initialisation to the next one (inclusive).
  """
  overlaps = np.nan_to_num(np.asarray(overlaps, dtype=np.float64), nan=0.0)
  n = len(overlaps)
  points = [0] + [f + skip for f in np.flatnonzero(np.asarray(codes) == FAILURE)
                  if f + skip <= n]
  segments = []
  for k, start in enumerate(points):
    if k + 1 < len(points):
      segments.append((overlaps[start:points[k + 1] + 1], True))
    else:
      segments.append((overlaps[start:], False))
  return segments


def expected_overlap_curve(segments, max_len):
  """Expected average overlap for every sequence length 1 .. max_len.

  Args:
    segments: list of (overlaps [L], failed) from ``eao_segments``.
    max_len: curve length (the longest sequence).

  Returns:
    [max_len] float64; ``curve[0] = 1``; ``curve[i]`` averages, over segments
    defined at frame ``i`` (failed ones are zero-padded), the mean overlap of
    frames 1 .. i.
  """
  frags = np.full((len(segments), max_len), np.nan)
  for r, (seg, failed) in enumerate(segments):
    seg = seg[:max_len]
    if failed:
      frags[r] = 0.0
    frags[r, :len(seg)] = seg
  curve = np.zeros(max_len)
  curve[0] = 1.0
  for i in range(1, max_len):
    valid = ~np.isnan(frags[:, i])
    if valid.any():
      curve[i] = np.mean(frags[valid, 1:i + 1].mean(axis=1))
  return curve


def eao(runs, year=2018, skip=SKIP, length_range=None):
  """Expected average overlap of supervised runs.

  Args:
    runs: list of SupervisedRun.
    year: VOT year, selects ``EAO_RANGES[year]``.
    skip: frames between a failure and the re-initialisation.
    length_range: (low, high) sequence lengths, overriding the year's.

  Returns:
    dict 'eao' (float) and 'curve' ([max_len]).
  """
  low, high = length_range or EAO_RANGES[int(year)]
  segments = [s for run in runs
              for s in eao_segments(run.overlaps, run.codes, skip)]
  max_len = max(len(run.codes) for run in runs)
  curve = expected_overlap_curve(segments, max_len)
  window = curve[low - 1:high]
  return dict(eao=float(window.mean()) if len(window) else float('nan'),
              curve=curve)
