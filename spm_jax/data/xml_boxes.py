"""Pascal-VOC-style XML annotations (VOC, ImageNet VID): parsing with file-named errors."""

import xml.etree.ElementTree as ET

import numpy as np

from spm_jax.data.errors import AnnotationError


def parse(path):
  """The root element of an XML file, or :class:`AnnotationError` naming it."""
  try:
    return ET.parse(path).getroot()
  except ET.ParseError as e:
    raise AnnotationError(f'{path}: malformed XML ({e})') from None


def text(node, tag, path):
  """Stripped text of ``node``'s child ``tag`` (AnnotationError naming ``path`` if missing)."""
  found = node.find(tag)
  if found is None or found.text is None:
    raise AnnotationError(f'{path}: <{tag}> missing')
  return found.text.strip()


def corners(obj, path, what):
  """``<bndbox>`` of an ``<object>`` -> xmin, ymin, xmax, ymax as written (floats).

  Args:
    obj: the ``<object>`` element.
    path: the XML file (named in errors).
    what: the object as errors name it, e.g. ``"track 3"``.

  Raises:
    AnnotationError: no ``<bndbox>``, a missing, non-numeric, NaN or infinite
      value, or xmax < xmin / ymax < ymin.
  """
  box = obj.find('bndbox')
  if box is None:
    raise AnnotationError(f'{path}: <object> {what} without <bndbox>')
  try:
    x1, y1, x2, y2 = (float(text(box, t, path)) for t in ('xmin', 'ymin', 'xmax', 'ymax'))
  except ValueError as e:
    raise AnnotationError(f'{path}: non-numeric <bndbox> value for {what} ({e})') from None
  if not np.all(np.isfinite([x1, y1, x2, y2])):
    raise AnnotationError(f'{path}: NaN or infinite <bndbox> value for {what}')
  if x2 < x1 or y2 < y1:
    raise AnnotationError(f'{path}: xmax < xmin or ymax < ymin for {what}')
  return x1, y1, x2, y2
