"""Checks of what users hand to the tracker, with errors that name the problem."""

import numpy as np

# Largest accepted |x|, |y|, |w|, |h| in pixels: float32 (the tracking step's
# type) still holds whole pixels up to 2**24, far beyond any real frame.
MAX_COORDINATE = float(2 ** 24)
# Smallest accepted w, h in pixels: the crop scale (crop pixels per frame
# pixel) of a much smaller box overflows float32.
MIN_SIDE = 0.01


def check_frame(frame, name='frame'):
  """Raises ValueError unless ``frame`` is a uint8 [H, W, 3] RGB array.

  Grayscale and 4-channel frames are refused rather than silently converted,
  so that a BGR/RGB or channel mix-up is seen at once.
  """
  if not isinstance(frame, np.ndarray):
    raise ValueError(f'{name} must be a NumPy array (uint8 [H, W, 3] RGB), got {type(frame).__name__}')
  if frame.dtype != np.uint8:
    raise ValueError(f'{name} must have dtype uint8, got {frame.dtype}; convert a float '
                     'frame in [0, 1] with (x * 255).round().astype(np.uint8), one in '
                     '[0, 255] with np.clip(x, 0, 255).round().astype(np.uint8)')
  if frame.ndim != 3 or frame.shape[2] != 3:
    hint = (' (grayscale: convert with cv2.cvtColor(f, cv2.COLOR_GRAY2RGB))'
            if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1) else '')
    raise ValueError(f'{name} must have shape [H, W, 3], got {list(frame.shape)}{hint}')
  if frame.shape[0] < 1 or frame.shape[1] < 1:
    raise ValueError(f'{name} is empty: shape {list(frame.shape)}')


def check_box(box, frame_shape):
  """Validates a box (x, y, w, h) in frame pixels and returns it as float64 [4].

  Raises ValueError naming the box when it is not 4 finite numbers, has a
  value beyond +-``MAX_COORDINATE`` (2**24) pixels, has w <= 0 or h <= 0,
  has w or h below ``MIN_SIDE`` (0.01 pixel), or lies wholly outside the frame (a box that touches the
  frame only along an edge counts as outside). A box partly outside is
  accepted: tracking starts from it as given. ``frame_shape`` None skips the
  frame check (a box set without a frame, ``Tracker.set_box``).
  """
  try:
    arr = np.asarray(box, dtype=np.float64).reshape(-1)
  except (TypeError, ValueError):  # strings, dicts, complex numbers, ragged lists
    arr = None
  if arr is None or arr.shape != (4,):
    raise ValueError(f'box must be 4 numbers (x, y, w, h), got {box!r}')
  if not np.all(np.isfinite(arr)):
    raise ValueError(f'box {arr.tolist()} has a NaN or infinite value')
  if np.any(np.abs(arr) > MAX_COORDINATE):
    raise ValueError(f'box {arr.tolist()} has a value beyond +-{MAX_COORDINATE:.0f} pixels')
  x, y, w, h = arr
  if w <= 0 or h <= 0:
    raise ValueError(f'box {arr.tolist()} has zero or negative size (w={w}, h={h})')
  if w < MIN_SIDE or h < MIN_SIDE:
    raise ValueError(f'box {arr.tolist()} is too small: w and h must be at least {MIN_SIDE} '
                     f'pixel (w={w}, h={h})')
  if frame_shape is None:
    return arr
  height, width = frame_shape[:2]
  if x >= width or y >= height or x + w <= 0 or y + h <= 0:
    raise ValueError(f'box {arr.tolist()} lies wholly outside the {width}x{height} frame')
  return arr
