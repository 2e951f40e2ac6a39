"""Common base of the tfds builders: array_record files, one example per image.

Subclasses implement :meth:`ImageBuilder._examples` yielding ``(key, example)``
pairs of :func:`spm_jax.data.features.image_example`; images that cannot be
read or decoded are skipped with a logged warning and counted in
``builder.skipped_images`` (also logged once per split at the end).
"""

import logging

import numpy as np
import tensorflow_datasets as tfds

from spm_jax.data import features, image_io, still_layouts
from spm_jax.data.errors import DatasetLayoutError

logger = logging.getLogger(__name__)


class ImageBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Base builder; subclasses set ``VERSION``, configs and ``_examples``."""

  LAYOUT = ''  # Expected folder layout, quoted in errors.

  # tfds looks for a checksums file beside the builder's code through
  # `importlib_resources`, which tensorflow-datasets 4.9 imports without
  # declaring it; we download nothing, so there is no code path to search.
  @tfds.core.utils.classproperty
  @classmethod
  def code_path(cls):
    return None

  def __init__(self, *args, **kwargs):
    kwargs.setdefault('file_format', 'array_record')
    super().__init__(*args, **kwargs)
    self.skipped_images = 0

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self, description=self.__doc__, features=features.image_features(),
        homepage='https://github.com/microsoft/SPM-Tracker')

  def manual_root(self, dl_manager):
    """The manual folder, or :class:`DatasetLayoutError` naming it and the layout."""
    try:
      return str(dl_manager.manual_dir)
    except AssertionError as e:  # tfds: "Manual directory X does not exist or is empty."
      raise DatasetLayoutError(f'{str(e).splitlines()[0]}\nExpected layout:\n{self.LAYOUT}') from None

  def _split_generators(self, dl_manager):
    return {'train': self._generate_examples(dl_manager)}

  def _generate_examples(self, dl_manager):
    count = 0
    for key, example in self._examples(dl_manager):
      if example is None:
        self.skipped_images += 1
        continue
      count += 1
      yield key, example
    if self.skipped_images:
      logger.warning('%s: skipped %d images that could not be read or decoded (kept %d)',
                     self.name, self.skipped_images, count)

  def _examples(self, dl_manager):
    raise NotImplementedError


class StillsBuilder(ImageBuilder, skip_registration=True):
  """Still images as one-frame videos; subclasses set ``_read``.

  ``_read(root, split)`` returns [:class:`spm_jax.data.still_layouts.LabelledImage`];
  boxes are converted and clipped by :func:`still_layouts.to_pixels`, and boxes
  under one pixel after clipping are dropped.
  """

  def _read(self, root, split):
    raise NotImplementedError

  def _examples(self, dl_manager):
    images = self._read(self.manual_root(dl_manager), self.builder_config.split)
    for i, img in enumerate(images):
      read = image_io.read_checked(img.path)
      if read is None:
        yield img.path, None
        continue
      data, h, w = read
      boxes, keep = still_layouts.to_pixels(img, h, w)
      if not keep.any():
        continue
      idx = np.flatnonzero(keep)
      yield img.name, features.image_example(
          data, h, w, i, 0, 1, img.name, boxes[idx], range(idx.size),
          [img.categories[k] for k in idx], img.visible[idx])
