"""Reading videos and writing annotated videos and OTB-style result files.

Frames are uint8 [H, W, 3] **RGB** everywhere in this module's interface
(OpenCV's BGR stays inside); boxes are (x, y, w, h) in frame pixels with
0-based x, y (OTB convention, continuous coordinates).

Writers use the ``mp4v`` codec: the headless OpenCV wheels on PyPI ship no
H.264 encoder.
"""

import logging
import os
import time

import cv2
import numpy as np

# Colours (RGB) used by the demo and scripts/track.py.
PREDICTION_COLOR = (0, 255, 0)
GROUND_TRUTH_COLOR = (255, 64, 64)
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


# ----------------------------------------------------------------- drawing ---
def draw_box(frame, box, score=None, color=PREDICTION_COLOR, label=None, thickness=2):
  """Returns a copy of ``frame`` (uint8 [H, W, 3] RGB) with ``box`` (x, y, w, h) drawn.

  ``label`` and ``score`` (formatted ``0.00``) are written above the box.
  """
  out = np.ascontiguousarray(frame).copy()
  x, y, w, h = (int(round(float(v))) for v in box)
  cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
  text = ' '.join(t for t in (label, None if score is None else f'{score:.2f}') if t)
  if text:
    cv2.putText(out, text, (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1,
                cv2.LINE_AA)
  return out


def draw_text(frame, text, origin=(6, 16), color=(255, 255, 255)):
  """Returns a copy of ``frame`` with ``text`` written at ``origin`` (x, y) on a dark band."""
  out = np.ascontiguousarray(frame).copy()
  (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
  x, y = origin
  cv2.rectangle(out, (x - 3, y - th - 3), (x + tw + 3, y + base + 1), (0, 0, 0), -1)
  cv2.putText(out, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, color, 1, cv2.LINE_AA)
  return out


# ----------------------------------------------------------------- writing ---
class VideoWriterError(RuntimeError):
  """OpenCV cannot open a video writer (codec missing or folder not writable)."""


class Mp4Writer:
  """MP4 writer for RGB frames (codec ``mp4v``: the headless OpenCV wheels have no H.264)."""

  def __init__(self, path, fps, frame_size, codec='mp4v'):
    """Args:
      path: output file (its folder is created).
      fps: frames per second written into the file.
      frame_size: (width, height) of every frame.
      codec: four-character code.

    Raises:
      VideoWriterError naming the path and codec when OpenCV cannot write.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    if not os.access(directory, os.W_OK):
      raise VideoWriterError(f'cannot write {path!r}: folder {directory!r} is not writable')
    if len(codec) != 4:
      raise VideoWriterError(f'codec must be a four-character code such as mp4v, got {codec!r}')
    self.path = path
    self.frame_size = tuple(int(v) for v in frame_size)
    self.count = 0
    self._writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*codec), float(fps),
                                   self.frame_size)
    if not self._writer.isOpened():
      raise VideoWriterError(
          f'OpenCV cannot write {path!r} with the {codec!r} codec: the codec is missing from '
          'this OpenCV build (the PyPI opencv-python(-headless) wheels have mp4v but no H.264; '
          'use codec mp4v and a .mp4 file name)')

  def write(self, frame):
    """Appends one uint8 [H, W, 3] RGB frame of the writer's size."""
    h, w = frame.shape[:2]
    if (w, h) != self.frame_size:
      # OpenCV would drop the frame silently.
      raise ValueError(f'frame is {w}x{h} but {self.path!r} was opened for '
                       f'{self.frame_size[0]}x{self.frame_size[1]}')
    self._writer.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    self.count += 1

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


class PendingOutputs:
  """Output files written beside their names (``NAME.partial.EXT``) until :meth:`commit`.

  Args:
    paths: {key: final path}.
  """

  def __init__(self, paths):
    self.paths = dict(paths)
    self.partial = {k: '.partial'.join(os.path.splitext(p)) for k, p in paths.items()}

  def commit(self):
    """Renames every partial file to its final name (the results file last)."""
    for key in sorted(self.partial, key=lambda k: k == 'results'):
      if os.path.exists(self.partial[key]):
        os.replace(self.partial[key], self.paths[key])

  def discard(self):
    """Removes the partial files; earlier outputs under the final names stay."""
    for path in self.partial.values():
      if os.path.exists(path):
        os.remove(path)


# ----------------------------------------------------------------- reading ---
class VideoReadError(OSError):
  """A video, camera or image folder cannot be read; the message names it."""


def list_image_files(folder):
  """Image files of ``folder`` in natural order (``9.jpg`` before ``10.jpg``).

  Raises:
    VideoReadError when the folder does not exist or holds no image.
  """
  if not os.path.isdir(folder):
    raise VideoReadError(f'frame folder {folder!r} does not exist')
  from spm_jax.evaluation.benchmarks.base import list_images
  paths = list_images(folder)
  if not paths:
    raise VideoReadError(f'frame folder {folder!r} holds no image '
                         f'(looked for {", ".join(IMAGE_EXTENSIONS)})')
  return paths


def read_image(path):
  """Reads an image file as uint8 [H, W, 3] RGB; VideoReadError naming the file otherwise.

  The rule of :func:`spm_jax.data.image_io.read_image`: a truncated image is unreadable.
  """
  from spm_jax.data import image_io
  try:
    return image_io.read_image(path)
  except image_io.ImageReadError as e:
    raise VideoReadError(str(e)) from e


class FrameSource:
  """Frames of a video file, an image folder or a camera, as RGB arrays.

  Iterating yields uint8 [H, W, 3] RGB frames in order. ``fps`` is the
  source's frame rate when known (video files), else ``default_fps``. In an
  image folder, an image after the first that does not decode yields None
  (logged, its path appended to ``unreadable``).

  Example::

    with FrameSource.open(video='clip.mp4') as source:
      for frame in source:
        ...
  """

  def __init__(self, name, fps, frames_iter, release=None, num_frames=None):
    self.name = name
    self.fps = fps
    self.num_frames = num_frames
    self.unreadable = []  # image files skipped because they do not decode
    self._iter = frames_iter
    self._release = release

  def _read_images(self, paths):
    """Frames of an image folder; an unreadable image after the first yields None.

    The first image must decode (VideoReadError naming it otherwise); a later one
    that does not is logged, recorded in ``unreadable`` and yielded as None, so
    that frame numbers stay those of the folder.
    """
    for i, path in enumerate(paths):
      try:
        yield read_image(path)
      except VideoReadError:
        if i == 0:
          raise
        logging.warning('skipping unreadable image %s', path)
        self.unreadable.append(path)
        yield None

  @classmethod
  def open(cls, video=None, frames=None, webcam=None, default_fps=30.0, max_frames=None):
    """Opens exactly one of ``video`` (path), ``frames`` (folder) or ``webcam`` (index).

    Args:
      max_frames: stop after this many frames (None: all).

    Raises:
      VideoReadError naming the path or camera when it cannot be read.
      ValueError unless exactly one source is given.
    """
    given = [s is not None for s in (video, frames, webcam)]
    if sum(given) != 1:
      raise ValueError('give exactly one of video, frames, webcam')
    if frames is not None:
      paths = list_image_files(frames)[:max_frames]
      source = cls(frames, default_fps, None, num_frames=len(paths))
      source._iter = source._read_images(paths)  # pylint: disable=protected-access
      return source
    if video is not None:
      if not os.path.isfile(video):
        raise VideoReadError(f'video file {video!r} does not exist')
      cap = cv2.VideoCapture(os.fspath(video))
      name = video
    else:
      cap = cv2.VideoCapture(int(webcam))
      name = f'webcam {webcam}'
    if not cap.isOpened():
      cap.release()
      what = (f'video {video!r} (unsupported format or corrupt file?)' if video is not None else
              f'camera {webcam} (no such device, or this OpenCV build cannot open cameras: '
              'the headless wheels read /dev/video* through V4L2 only)')
      raise VideoReadError(f'OpenCV cannot open {what}')
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = float(fps) if fps and np.isfinite(fps) and 0 < fps < 1000 else default_fps
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if video is not None else 0
    count = count if count > 0 else None
    if max_frames is not None and count is not None:
      count = min(count, max_frames)

    def generate():
      n = 0
      while max_frames is None or n < max_frames:
        ok, bgr = cap.read()
        if not ok:
          if n == 0:
            raise VideoReadError(f'{name!r} opened but no frame could be decoded')
          return
        n += 1
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return cls(name, fps, generate(), release=cap.release, num_frames=count)

  def __iter__(self):
    return self._iter

  def close(self):
    if self._release is not None:
      self._release()
      self._release = None

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


# -------------------------------------------------------------------- misc ---
def parse_box(text):
  """``"x,y,w,h"`` (commas, spaces or tabs) -> float64 [4]; ValueError otherwise."""
  parts = [p for p in str(text).replace(',', ' ').replace('\t', ' ').split() if p]
  try:
    values = np.array([float(p) for p in parts], np.float64)
  except ValueError:
    values = None
  if values is None or values.shape != (4,):
    raise ValueError(f'box must be 4 numbers x,y,w,h (frame pixels, 0-based), got {text!r}')
  return values


def check_box_in_frame(box, frame_shape):
  """Validates a first-frame box against the frame; returns it as float64 [4].

  Raises:
    ValueError naming the box and the frame size when the box has no positive
    size or lies wholly outside the frame.

  Returns:
    the box and the share of its area inside the frame (callers may warn
    when it is small).
  """
  from spm_jax.tracking.validation import check_box
  height, width = frame_shape[:2]
  try:
    box = check_box(box, frame_shape)
  except ValueError as e:
    raise ValueError(f'{e} (frame is {width}x{height}, boxes are x,y,w,h in frame pixels)') from e
  x, y, w, h = box
  inside_w = max(0.0, min(x + w, width) - max(x, 0.0))
  inside_h = max(0.0, min(y + h, height) - max(y, 0.0))
  return box, inside_w * inside_h / (w * h)


class FpsMeter:
  """Frames per second over a sliding window of per-frame times."""

  def __init__(self, window=30):
    self.times = []
    self.window = window
    self._start = None

  def start(self):
    self._start = time.perf_counter()

  def stop(self):
    self.times.append(time.perf_counter() - self._start)
    return self.times[-1]

  @property
  def fps(self):
    """Frames per second of the last ``window`` frames (after the first, compiled, one)."""
    recent = self.times[1:][-self.window:] or self.times[-1:]
    return len(recent) / sum(recent) if recent and sum(recent) > 0 else float('nan')

  @property
  def median_fps(self):
    """1 / median time per frame, the first (compiling) frame excluded."""
    times = self.times[1:] or self.times
    return 1.0 / float(np.median(times)) if times else float('nan')


def draw_proposals(frame, proposals, cm_scores, fm_scores=None, valid=None, top=None,
                   color=(255, 200, 0)):
  """Draws the K proposals of one frame with their CM (C) and FM (F) scores (paper fig. 5).

  Args:
    frame: uint8 [H, W, 3] RGB.
    proposals: [K, 4] x, y, w, h frame pixels (``Tracker.last_outputs['proposals']``).
    cm_scores: [K] CM foreground scores.
    fm_scores: [K] FM foreground scores or None (``cm_only``).
    valid: [K] bool, proposals that took part (others are skipped).
    top: draw only the ``top`` proposals of highest CM score.

  Returns:
    annotated copy of ``frame``.
  """
  proposals = np.asarray(proposals, np.float64).reshape(-1, 4)
  cm_scores = np.asarray(cm_scores, np.float64).reshape(-1)
  keep = np.ones(len(proposals), bool) if valid is None else np.asarray(valid, bool).reshape(-1)
  order = [i for i in np.argsort(-cm_scores) if keep[i]][:top]
  out = frame
  for i in order:
    text = f'C{cm_scores[i]:.2f}' + ('' if fm_scores is None else f' F{float(fm_scores[i]):.2f}')
    out = draw_box(out, proposals[i], color=color, label=text, thickness=1)
  return out
