"""OTB's robustness protocols: temporal (TRE) and spatial (SRE) runs as derived benchmarks.

One-pass evaluation (OPE) starts each video once, from its first frame's ground
truth. Wu et al. (OTB, CVPR 2013, sec. 4.1) add two protocols that start it
several times, which averages over the luck of a single start (on a few
videos one lost target moves the mean by a tenth):

* **TRE**: the video is cut into ``segments`` parts (OTB: 20) and tracked
  from the start of each part to the end, initialised with that frame's ground
  truth (the first annotated frame at or after it);
* **SRE**: tracked from the first frame with 12 perturbed initial boxes:
  the box shifted by 10 % of its width / height to the 4 sides and the 4
  corners, and scaled about its centre by 0.8, 0.9, 1.1 and 1.2.

Each start is a sequence of its own, named ``VIDEO@tre{i}`` / ``VIDEO@sre{i}``,
so the result files, the OPE runner and the metrics need no change:
:func:`derive` turns a ``Dataset`` into one holding every start. Its
sequences are not independent: :func:`by_video` averages per-sequence scores
over each video's starts before a bootstrap over videos.

Boxes are x, y, w, h in the benchmark's pixel numbers (``Sequence.gt``).
"""

import dataclasses
import re

import numpy as np

from spm_jax.evaluation import metrics
from spm_jax.evaluation.benchmarks import base

PROTOCOLS = ('ope', 'tre', 'sre')
SEPARATOR = '@'
# OTB's SRE: shifts as fractions of (w, h), 4 sides then 4 corners; scales about the centre.
SRE_SHIFTS = ((-0.1, 0.0), (0.1, 0.0), (0.0, -0.1), (0.0, 0.1),
              (-0.1, -0.1), (0.1, -0.1), (-0.1, 0.1), (0.1, 0.1))
SRE_SCALES = (0.8, 0.9, 1.1, 1.2)


def segment_starts(gt, segments):
  """First frames of TRE's runs: the first annotated frame at or after ``i * N / segments``.

  Args:
    gt: [N, 4] x, y, w, h; rows with NaN or a side <= 0 are not annotated.
    segments: number of parts (>= 1).

  Returns:
    sorted list of distinct frame indices (fewer than ``segments`` when parts
    share their first annotated frame or have none).
  """
  if segments < 1:
    raise ValueError(f'segments must be >= 1, got {segments}')
  gt = np.asarray(gt, np.float64)
  annotated = np.flatnonzero(metrics.valid_frames(gt) & np.all(gt[:, 2:] > 0, axis=1))
  starts = set()
  for i in range(segments):
    later = annotated[annotated >= (i * len(gt)) // segments]
    if later.size:
      starts.add(int(later[0]))
  return sorted(starts)


def sre_boxes(box):
  """OTB's 12 SRE initial boxes of one box.

  Args:
    box: [4] x, y, w, h.

  Returns:
    [12, 4] float64 x, y, w, h: 8 shifts, then 4 scales.
  """
  x, y, w, h = np.asarray(box, np.float64)
  out = [(x + dx * w, y + dy * h, w, h) for dx, dy in SRE_SHIFTS]
  cx, cy = x + w / 2, y + h / 2
  out += [(cx - s * w / 2, cy - s * h / 2, s * w, s * h) for s in SRE_SCALES]
  return np.asarray(out)


def tre_sequences(seq, segments):
  """TRE's runs of one video: ``VIDEO@tre{i}`` from each of :func:`segment_starts`."""
  out = []
  for i, start in enumerate(segment_starts(seq.gt, segments)):
    attrs = {k: (v[start:] if isinstance(v, np.ndarray) else v) for k, v in seq.attributes.items()}
    out.append(dataclasses.replace(
        seq, name=f'{seq.name}{SEPARATOR}tre{i}', frames=list(seq.frames[start:]),
        gt=seq.gt[start:], polygons=None if seq.polygons is None else seq.polygons[start:],
        attributes=attrs, init=None))
  return out


def sre_sequences(seq):
  """SRE's runs of one video: ``VIDEO@sre{i}``, the ground truth kept, the start box perturbed."""
  return [dataclasses.replace(seq, name=f'{seq.name}{SEPARATOR}sre{i}', init=box)
          for i, box in enumerate(sre_boxes(seq.gt[0]))]


def derive(dataset, protocol, segments=20):
  """The benchmark whose sequences are ``protocol``'s runs of ``dataset``'s videos.

  Args:
    dataset: a ``Dataset``.
    protocol: one of :data:`PROTOCOLS`; 'ope' returns ``dataset`` itself.
    segments: TRE's parts per video (OTB: 20).

  Returns:
    a ``Dataset`` (same name, root and result format); every video's runs are
    built when one of them is first read, and each video is read once.
  """
  if protocol not in PROTOCOLS:
    raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
  if protocol == 'ope':
    return dataset
  runs_of = ((lambda s: tre_sequences(s, segments)) if protocol == 'tre' else sre_sequences)
  names, cache = [], {}

  def runs(video):
    if video not in cache:
      cache[video] = {s.name: s for s in runs_of(dataset[video])}
    return cache[video]

  for video in dataset.names:
    names += list(runs(video))
  attributes = {n: dataset.attributes[video_of(n)] for n in names
                if video_of(n) in dataset.attributes}
  return base.Dataset(dataset.name, dataset.root, names, lambda n: runs(video_of(n))[n],
                      dataset.result_format, attributes)


_RUN_NAME = re.compile(rf'^(.*){SEPARATOR}(?:tre|sre)\d+$')


def video_of(name):
  """``VIDEO@tre3`` / ``VIDEO@sre0`` -> ``VIDEO``; any other name is its own video."""
  m = _RUN_NAME.match(name)
  return m.group(1) if m else name


def by_video(scores):
  """``{sequence name: score}`` -> ``{video: mean score over its runs}`` (insertion order)."""
  grouped = {}
  for name, s in scores.items():
    grouped.setdefault(video_of(name), []).append(s)
  return {v: float(np.mean(s)) for v, s in grouped.items()}
