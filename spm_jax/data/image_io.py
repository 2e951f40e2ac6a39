"""Encoded image bytes <-> RGB arrays with OpenCV (no TensorFlow).

Images are stored in the datasets as their encoded file bytes (JPEG for all the
supported layouts) and decoded with ``cv2.imdecode`` when a pair is made.
"""

import logging

import cv2
import numpy as np

logger = logging.getLogger(__name__)


def frame_mean(frame):
  """(3,) float64 mean colour of a uint8 [H, W, 3] frame (the crops' fill colour).

  ``cv2.mean`` runs in one pass without a float copy of the frame (a 4K frame:
  a few ms, against ~130 ms for NumPy's ``mean``).
  """
  return np.asarray(cv2.mean(frame)[:3], np.float64)


def decode_image(data):
  """Encoded bytes -> [H, W, 3] uint8 RGB, or None if OpenCV cannot decode them."""
  buf = np.frombuffer(data, np.uint8)
  if buf.size == 0:
    return None
  img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
  if img is None:
    return None
  return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


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
  img = decode_image(data)
  if img is None:
    logger.warning('skipping image that OpenCV cannot decode: %s', path)
    return None
  return data, img.shape[0], img.shape[1]
