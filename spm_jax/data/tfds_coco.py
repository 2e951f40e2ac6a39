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

import numpy as np
import tensorflow_datasets as tfds

from spm_jax.data import coco_layout, still_layouts, tfds_base


@dataclasses.dataclass
class CocoConfig(tfds.core.BuilderConfig):
  split: str = 'train2017'  # annotations/instances_<split>.json and <split>/.


class SpmCocoStills(tfds_base.StillsBuilder):
  """COCO still images with all their boxes and classes, from manual_dir."""

  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      CocoConfig(name='train2017', split='train2017'),
      CocoConfig(name='val2017', split='val2017'),
  ]
  MANUAL_DOWNLOAD_INSTRUCTIONS = coco_layout.COCO_LAYOUT
  LAYOUT = coco_layout.COCO_LAYOUT

  def _read(self, root, split):
    images = coco_layout.read_coco(root, split)
    return [still_layouts.LabelledImage(
        path=img.path, name=os.path.basename(img.path), boxes=img.boxes,
        categories=img.categories, visible=np.ones(len(img.categories), bool)) for img in images]
