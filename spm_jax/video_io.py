"""Writing annotated videos and OTB-style result files."""

import os

import cv2
import numpy as np


def draw_box(frame, box, score=None, color=(0, 255, 0), label=None):
  """Returns a copy of ``frame`` (uint8 [H, W, 3] RGB) with ``box`` (x, y, w, h) drawn."""
  out = np.ascontiguousarray(frame).copy()
  x, y, w, h = (int(round(v)) for v in box)
  cv2.rectangle(out, (x, y), (x + w, y + h), color, 2)
  text = ' '.join(t for t in (label, None if score is None else f'{score:.2f}') if t)
  if text:
    cv2.putText(out, text, (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1,
                cv2.LINE_AA)
  return out


class Mp4Writer:
  """MP4 writer for RGB frames (codec ``mp4v``: the headless OpenCV wheels have no H.264)."""

  def __init__(self, path, fps, frame_size):
    """Args: path; fps; frame_size (width, height)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    self.path = path
    self._writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), float(fps),
                                   tuple(int(v) for v in frame_size))
    if not self._writer.isOpened():
      raise RuntimeError(f'OpenCV cannot write {path!r} with the mp4v codec; '
                         'check that this OpenCV build has FFmpeg video support')

  def write(self, frame):
    self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

  def close(self):
    self._writer.release()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


def write_results(path, boxes, delimiter=','):
  """Writes [N, 4] x, y, w, h boxes one per line (OTB results format, 0-based)."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  np.savetxt(path, np.asarray(boxes, np.float64).reshape(-1, 4), fmt='%.2f', delimiter=delimiter)
