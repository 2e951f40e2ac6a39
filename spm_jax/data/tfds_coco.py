"""tfds builder of COCO-style still images (instances JSON) from a local folder.

Each image keeps all its boxes with their class names, so same-category objects
of one image are known. Read from tfds' ``manual_dir`` (layout in
:data:`spm_jax.data.coco_layout.COCO_LAYOUT`); nothing is downloaded::

  python -m spm_jax.data.prepare --dataset spm_coco_stills/train2017 \
      --manual_dir /data/coco --data_dir ~/tensorflow_datasets

A still image is stored as a one-frame video: ``video_index`` = image index,
``frame_index`` = 0, ``track_ids`` = 0..N-1.
"""

import dataclasses
import os

import tensorflow_datasets as tfds

from spm_jax.data import coco_layout, features, image_io, tfds_base


@dataclasses.dataclass
class CocoConfig(tfds.core.BuilderConfig):
  split: str = 'train2017'  # annotations/instances_<split>.json and <split>/.


class SpmCocoStills(tfds_base.ImageBuilder):
  """COCO still images with all their boxes and classes, from manual_dir."""

  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      CocoConfig(name='train2017', split='train2017'),
      CocoConfig(name='val2017', split='val2017'),
  ]
  MANUAL_DOWNLOAD_INSTRUCTIONS = coco_layout.COCO_LAYOUT
  LAYOUT = coco_layout.COCO_LAYOUT

  def _examples(self, dl_manager):
    images = coco_layout.read_coco(self.manual_root(dl_manager), self.builder_config.split)
    for i, img in enumerate(images):
      read = image_io.read_checked(img.path)
      if read is None:
        yield img.path, None
        continue
      data, h, w = read
      n = len(img.categories)
      yield str(img.image_id), features.image_example(
          data, h, w, i, 0, 1, os.path.basename(img.path), img.boxes, range(n),
          img.categories, [True] * n)
