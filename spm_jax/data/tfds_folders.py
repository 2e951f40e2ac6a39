"""tfds builders of one's own labelled folders: YOLO and Pascal VOC stills, MOT videos.

The config name is ``LABEL`` or ``LABEL.SPLIT``: ``LABEL`` is any name (letters,
digits, ``_``, ``-``) that tells datasets apart in ``data_dir``; ``SPLIT``
picks one split of the folder (YOLO ``images/<split>``, VOC
``ImageSets/Main/<split>.txt`` or ``<split>/``, MOT ``<split>/<seq>``), and
without it every split is read. The folder is tfds' ``manual_dir``::

  python -m spm_jax.data.prepare --dataset spm_yolo_stills/coco128 \
      --manual_dir /data/coco128 --data_dir ~/tensorflow_datasets
  python -m spm_jax.data.prepare --dataset spm_voc_stills/voc2007.trainval \
      --manual_dir /data/VOCdevkit --data_dir ~/tensorflow_datasets
  python -m spm_jax.data.prepare --dataset spm_mot_videos/mine \
      --manual_dir /data/my_videos --data_dir ~/tensorflow_datasets

Reading a prepared dataset needs only its name and ``data_dir``. Still images
are one-frame videos with every box and class (as :mod:`spm_jax.data.tfds_coco`);
MOT videos give one example per frame with an object (as
:mod:`spm_jax.data.tfds_videos`). Layouts: :mod:`spm_jax.data.still_layouts`,
:mod:`spm_jax.data.mot_layout`.
"""

import dataclasses
import re

import tensorflow_datasets as tfds

from spm_jax.data import mot_layout, still_layouts, tfds_base, tfds_videos
from spm_jax.data.errors import DatasetLayoutError

_NAME = re.compile(r'^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$')


@dataclasses.dataclass
class FolderConfig(tfds.core.BuilderConfig):
  split: str = ''  # '' : every split of the folder.


class FolderBuilder(tfds_base.ImageBuilder, skip_registration=True):
  """Builder whose configs are made from their name (``LABEL[.SPLIT]``)."""

  VERSION = tfds.core.Version('1.0.0')

  @classmethod
  def named_config(cls, name):
    """``'LABEL'`` or ``'LABEL.SPLIT'`` -> :class:`FolderConfig`."""
    if not name or not _NAME.match(name):
      raise ValueError(f'{cls.__name__}: config {name!r} must be LABEL or LABEL.SPLIT (letters, '
                       'digits, _ and -), e.g. coco128 or coco128.train2017')
    return FolderConfig(name=name, split=name.partition('.')[2])

  def manual_root(self, dl_manager):
    """The manual folder, or a one-line :class:`DatasetLayoutError` naming it and the layout."""
    try:
      return str(dl_manager.manual_dir)
    except AssertionError as e:  # tfds: "Manual directory X does not exist or is empty."
      raise DatasetLayoutError(f'{str(e).splitlines()[0]} Expected {self.LAYOUT}') from None


class SpmYoloStills(FolderBuilder, tfds_base.StillsBuilder):
  """Still images with YOLO text labels (``class cx cy w h``), from manual_dir."""

  MANUAL_DOWNLOAD_INSTRUCTIONS = still_layouts.YOLO_LAYOUT
  LAYOUT = still_layouts.YOLO_LAYOUT

  def _read(self, root, split):
    return still_layouts.read_yolo(root, split)


class SpmVocStills(FolderBuilder, tfds_base.StillsBuilder):
  """Still images with Pascal VOC XML annotations, from manual_dir."""

  MANUAL_DOWNLOAD_INSTRUCTIONS = still_layouts.VOC_LAYOUT
  LAYOUT = still_layouts.VOC_LAYOUT

  def _read(self, root, split):
    return still_layouts.read_voc(root, split)


class SpmMotVideos(FolderBuilder):
  """Labelled videos in the MOTChallenge layout (``gt.txt``), from manual_dir."""

  MANUAL_DOWNLOAD_INSTRUCTIONS = mot_layout.MOT_LAYOUT
  LAYOUT = mot_layout.MOT_LAYOUT

  def _examples(self, dl_manager):
    return tfds_videos.video_examples(
        mot_layout.read_mot(self.manual_root(dl_manager), self.builder_config.split))
