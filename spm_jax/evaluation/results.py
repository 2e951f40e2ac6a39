"""Reading and writing box files: ground truth and each benchmark's result format.

Boxes are ``[N, 4]`` rows of ``x, y, w, h`` in pixels (``x, y`` the 0-based
top-left corner), or ``[N, 8]`` polygons ``x1, y1, ..., x4, y4`` for VOT.

Result layouts (``fmt``), one folder per tracker:

* ``'otb'`` (also OTB-2013, UAV123, LaSOT, TrackingNet): ``<dir>/<seq>.txt``,
  one ``x,y,w,h`` line per frame; per-frame seconds in
  ``<dir>/times/<seq>_time.txt`` (the got10k toolkit's layout). For a TrackingNet
  submission zip only the top-level ``*.txt`` files.
* ``'got10k'``: ``<dir>/<seq>/<seq>_001.txt`` (boxes, first run) and
  ``<dir>/<seq>/<seq>_time.txt`` (seconds per frame), the GOT-10k server layout.
"""

import os
import re

import numpy as np

RESULT_FORMATS = ('otb', 'got10k')
_SEPARATORS = re.compile(r'[,\s;]+')


def read_rows(path, widths=(4,)):
  """Reads a numeric text table with any mix of comma / tab / space separators.

  Args:
    path: text file, one row per line; empty lines are ignored.
    widths: accepted numbers of values per row (e.g. (4,) or (4, 8)); None
      accepts any (all rows must still agree).

  Returns:
    [N, W] float64; the literal ``NaN`` (any case) is read as NaN.

  Raises:
    ValueError: naming the file and 1-based line number of a malformed line.
  """
  rows = []
  with open(path, 'r') as f:
    for lineno, line in enumerate(f, start=1):
      line = line.strip()
      if not line:
        continue
      fields = [t for t in _SEPARATORS.split(line) if t]
      try:
        values = [float(t) for t in fields]
      except ValueError:
        raise ValueError(
            f'{path}:{lineno}: cannot parse {line!r} as numbers') from None
      if widths is not None and len(values) not in widths:
        raise ValueError(
            f'{path}:{lineno}: expected {" or ".join(map(str, widths))} values, '
            f'got {len(values)} in {line!r}')
      rows.append(values)
  if not rows:
    return np.zeros((0, widths[0] if widths else 0))
  width = len(rows[0])
  for i, r in enumerate(rows):
    if len(r) != width:
      raise ValueError(f'{path}: row {i + 1} has {len(r)} values, the first has '
                       f'{width}')
  return np.asarray(rows, dtype=np.float64)


def write_boxes(path, boxes):
  """Writes ``[N, 4]`` x, y, w, h boxes (pixels) as comma-separated lines.

  Args:
    path: output file; parent folders are created.
    boxes: [N, 4] x, y, w, h (pixels, 0-based top-left corner).
  """
  boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
  os.makedirs(os.path.dirname(os.fspath(path)) or '.', exist_ok=True)
  tmp = f'{path}.tmp'
  np.savetxt(tmp, boxes, fmt='%.4f', delimiter=',')
  os.replace(tmp, path)


def write_times(path, times):
  """Writes per-frame seconds, one per line. times: [N] float."""
  os.makedirs(os.path.dirname(os.fspath(path)) or '.', exist_ok=True)
  tmp = f'{path}.tmp'
  np.savetxt(tmp, np.asarray(times, dtype=np.float64).reshape(-1), fmt='%.8f')
  os.replace(tmp, path)


def read_times(path):
  """[N] float64 seconds per frame, or None when the file does not exist."""
  if not os.path.isfile(path):
    return None
  return read_rows(path, widths=(1,))[:, 0]


def result_paths(result_dir, seq_name, fmt='otb'):
  """(boxes file, times file) of one sequence in a tracker's result folder."""
  result_dir = os.fspath(result_dir)
  if fmt == 'otb':
    return (os.path.join(result_dir, f'{seq_name}.txt'),
            os.path.join(result_dir, 'times', f'{seq_name}_time.txt'))
  if fmt == 'got10k':
    d = os.path.join(result_dir, seq_name)
    return (os.path.join(d, f'{seq_name}_001.txt'),
            os.path.join(d, f'{seq_name}_time.txt'))
  raise ValueError(f'unknown result format {fmt!r}; expected one of '
                   f'{RESULT_FORMATS}')


def detect_format(result_dir):
  """'got10k' when the folder holds ``<seq>/<seq>_001.txt`` files, else 'otb'."""
  result_dir = os.fspath(result_dir)
  for name in sorted(os.listdir(result_dir)):
    if os.path.isfile(os.path.join(result_dir, name, f'{name}_001.txt')):
      return 'got10k'
  return 'otb'


def write_result(result_dir, seq_name, boxes, times, fmt='otb'):
  """Writes one sequence's boxes ([N, 4] x, y, w, h pixels) and times ([N] s)."""
  box_path, time_path = result_paths(result_dir, seq_name, fmt)
  write_times(time_path, times)
  write_boxes(box_path, boxes)  # Written last: its presence marks "done".


def read_result(result_dir, seq_name, fmt='otb'):
  """(boxes [N, 4] x, y, w, h pixels, times [N] seconds or None)."""
  box_path, time_path = result_paths(result_dir, seq_name, fmt)
  if not os.path.isfile(box_path):
    raise FileNotFoundError(f'no result for sequence {seq_name!r}: {box_path}')
  return read_rows(box_path), read_times(time_path)


def read_first_result(result_dirs, seq_name, fmt='otb'):
  """``read_result`` from the first of ``result_dirs`` that holds the sequence.

  One run's results on benchmarks pooled from several folders. Raises
  FileNotFoundError naming the last folder's file when none holds it.
  """
  for d in result_dirs[:-1]:
    if os.path.isfile(result_paths(d, seq_name, fmt)[0]):
      return read_result(d, seq_name, fmt)
  return read_result(result_dirs[-1], seq_name, fmt)
