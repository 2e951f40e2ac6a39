"""Classic OpenCV trackers behind the project's tracker interface.

``init(frame, box)`` / ``update(frame) -> (box, score)``, frames uint8
[H, W, 3] RGB (converted to BGR for OpenCV), boxes (x, y, w, h) float pixels.
MIL ships with core OpenCV (``opencv-python-headless``); CSRT and KCF need the
contrib build (``opencv-contrib-python-headless``, which *replaces*
opencv-python-headless -- both install the same ``cv2`` package).
"""

import cv2
import numpy as np

# name -> (attribute paths tried in order; True when contrib is required).
_FACTORIES = {
    'MIL': (('TrackerMIL_create',), False),
    'CSRT': (('TrackerCSRT_create', 'legacy.TrackerCSRT_create'), True),
    'KCF': (('TrackerKCF_create', 'legacy.TrackerKCF_create'), True),
}
OPENCV_TRACKERS = tuple(_FACTORIES)


class TrackerUnavailable(RuntimeError):
  """The OpenCV build lacks this tracker."""


def _factory(name):
  paths, contrib = _FACTORIES[name]
  for path in paths:
    obj = cv2
    for part in path.split('.'):
      obj = getattr(obj, part, None)
      if obj is None:
        break
    if obj is not None:
      return obj
  hint = (' It is in opencv-contrib: pip uninstall opencv-python-headless && '
          'pip install opencv-contrib-python-headless (same cv2 version).'
          if contrib else '')
  raise TrackerUnavailable(
      f'OpenCV {cv2.__version__} has no {name} tracker ({" / ".join(paths)}).'
      + hint)


def available_trackers():
  """Names of the OpenCV trackers this cv2 build provides."""
  out = []
  for name in OPENCV_TRACKERS:
    try:
      _factory(name)
      out.append(name)
    except TrackerUnavailable:
      pass
  return out


class OpenCVTracker:
  """An OpenCV tracker (``'MIL'``, ``'CSRT'`` or ``'KCF'``).

  Raises TrackerUnavailable on construction when cv2 lacks it.
  """

  def __init__(self, name='MIL'):
    if name not in _FACTORIES:
      raise ValueError(f'unknown OpenCV tracker {name!r}; expected one of '
                       f'{OPENCV_TRACKERS}')
    self.name = name
    self._create = _factory(name)
    self._tracker = None
    self._box = None

  def init(self, frame, box):
    """frame: uint8 [H, W, 3] RGB; box: (x, y, w, h) pixels."""
    self._tracker = self._create()
    x, y, w, h = (float(v) for v in box)
    rect = (int(round(x)), int(round(y)), max(1, int(round(w))),
            max(1, int(round(h))))
    self._tracker.init(np.ascontiguousarray(frame[..., ::-1]), rect)
    self._box = (x, y, w, h)

  def update(self, frame):
    """frame: uint8 [H, W, 3] RGB -> ((x, y, w, h) pixels, score 1 / 0)."""
    ok, rect = self._tracker.update(np.ascontiguousarray(frame[..., ::-1]))
    if ok:
      self._box = tuple(float(v) for v in rect)
    return self._box, 1.0 if ok else 0.0
