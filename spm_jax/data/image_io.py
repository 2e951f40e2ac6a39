"""Encoded image bytes <-> RGB arrays with OpenCV (no TensorFlow): the one image reader.

Images are stored in the datasets as their encoded file bytes (JPEG for all the
supported layouts) and decoded with ``cv2.imdecode`` when a pair is made.
Every path that reads image files (tracking ``--frames`` folders, benchmark
sequences, training builders and pipeline) goes through :func:`decode_image` /
:func:`read_image`, with one rule: an image that does not decode *completely*
is unreadable. libjpeg decodes a truncated JPEG partially (the missing rows
grey) and only warns on stderr, so a JPEG must end its last scan with the EOI
marker (``FF D9``) and a PNG must hold its ``IEND`` chunk after the last
``IDAT``; other formats rely on OpenCV's decoder.
"""

import logging
import os

import cv2
import numpy as np

logger = logging.getLogger(__name__)


def frame_mean(frame):
  """(3,) float64 mean colour of a uint8 [H, W, 3] frame (the crops' fill colour).

  ``cv2.mean`` runs in one pass without a float copy of the frame (a 4K frame:
  a few ms, against ~130 ms for NumPy's ``mean``).
  """
  return np.asarray(cv2.mean(frame)[:3], np.float64)


class ImageReadError(OSError):
  """An image file is missing, truncated or not an image; the message names it."""


def incomplete_reason(data):
  """Why encoded image bytes are cut short, or None when they look complete.

  JPEG (starts ``FF D8``): the last EOI marker ``FF D9`` must come after the
  last start-of-scan ``FF DA`` (entropy-coded data never holds ``FF D9``, and
  bytes after the EOI are allowed). PNG: an ``IEND`` chunk after the last
  ``IDAT``. Other formats: None.
  """
  data = bytes(data)
  if data[:2] == b'\xff\xd8':
    if data.rfind(b'\xff\xd9') < max(data.rfind(b'\xff\xda'), 2):
      return 'truncated JPEG (no end-of-image marker after the last scan)'
  elif data[:8] == b'\x89PNG\r\n\x1a\n':
    if data.rfind(b'IEND') < data.rfind(b'IDAT'):
      return 'truncated PNG (no IEND chunk after the image data)'
  return None


def decode_or_reason(data):
  """Encoded bytes -> ([H, W, 3] uint8 RGB, None), or (None, why it is unreadable)."""
  buf = np.frombuffer(data, np.uint8)
  if buf.size == 0:
    return None, 'empty file'
  reason = incomplete_reason(buf)
  if reason is not None:
    return None, reason
  img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
  if img is None:
    return None, 'OpenCV cannot decode it (corrupt or not an image)'
  return cv2.cvtColor(img, cv2.COLOR_BGR2RGB), None


def decode_image(data):
  """Encoded bytes -> [H, W, 3] uint8 RGB, or None unless they decode completely."""
  return decode_or_reason(data)[0]


def read_image(path):
  """Reads an image file as [H, W, 3] uint8 RGB.

  Raises:
    ImageReadError naming the file and the reason when it is missing, empty,
    truncated (see the module docstring) or does not decode.
  """
  try:
    with open(os.fspath(path), 'rb') as f:
      data = f.read()
  except OSError as e:
    raise ImageReadError(f'cannot read image {os.fspath(path)!r}: {e.strerror or e}') from e
  img, reason = decode_or_reason(data)
  if img is None:
    raise ImageReadError(f'cannot read image {os.fspath(path)!r}: {reason}')
  return img


def encode_jpeg(image, quality=90):
  """[H, W, 3] uint8 RGB -> JPEG bytes."""
  ok, buf = cv2.imencode('.jpg', cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                         [cv2.IMWRITE_JPEG_QUALITY, quality])
  if not ok:
    raise ValueError('JPEG encoding failed')
  return buf.tobytes()


def read_checked(path):
  """Reads an image file and checks that it decodes.

  Args:
    path: image file.

  Returns:
    ``(data, height, width)`` with the file's encoded bytes, or None (with a
    logged warning) when the file cannot be read or decoded: the caller counts
    and skips it.
  """
  try:
    with open(path, 'rb') as f:
      data = f.read()
  except OSError as e:
    logger.warning('skipping unreadable image %s: %s', path, e)
    return None
  img, reason = decode_or_reason(data)
  if img is None:
    logger.warning('skipping image that does not decode completely: %s (%s)', path, reason)
    return None
  return data, img.shape[0], img.shape[1]
