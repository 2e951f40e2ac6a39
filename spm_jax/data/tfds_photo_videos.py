"""tfds builder of :mod:`spm_jax.data.photo_videos`: real cut-outs moving over real photographs.

Objects are cut from still datasets already prepared in the same ``data_dir``
(``PhotoVideoConfig.objects``); backgrounds are the photographs of
``manual_dir`` (any images under it, e.g. unpacked wallpaper packages) for a
``photo_backgrounds`` share of the videos, and otherwise those still images
with their labelled objects painted over. Without ``manual_dir`` every video
uses the still images. Same format as :mod:`spm_jax.data.tfds_synthetic`: one
example per frame with every object that overlaps the frame, object 0 the
target (track id 0)::

  python -m spm_jax.data.prepare --dataset spm_yolo_stills/coco128 --manual_dir /data/coco128 \
      --data_dir DIR   # ... and spm_voc_stills/kangaroo, spm_voc_stills/raccoon
  python -m spm_jax.data.prepare --dataset spm_photo_videos/realtrain \
      --manual_dir /data/backgrounds --data_dir DIR
"""

import dataclasses
import logging
import os

import numpy as np
import tensorflow_datasets as tfds

from spm_jax.data import features, image_io, photo_videos, still_layouts, synthetic, tfds_base
from spm_jax.data.errors import DatasetLayoutError

logger = logging.getLogger(__name__)

# Still datasets of the public coco128, kangaroo and raccoon sets (docs/data.md).
# Still images whose boxes cover more than this share are no background (too much painted).
MAX_CLEARED_SHARE = 0.3
REALTRAIN_OBJECTS = ('spm_yolo_stills/coco128', 'spm_voc_stills/kangaroo', 'spm_voc_stills/raccoon')


@dataclasses.dataclass
class PhotoVideoConfig(tfds.core.BuilderConfig):
  objects: tuple = REALTRAIN_OBJECTS  # prepared still datasets (same data_dir) to cut from.
  num_sequences: int = 300
  num_frames: int = 60
  height: int = 240
  width: int = 320
  seed: int = 0
  photo_backgrounds: float = 0.7  # share of videos over a manual_dir photograph (when given).
  min_side: int = 24  # boxes smaller than this (pixels) are not cut out.


class SpmPhotoVideos(tfds_base.ImageBuilder):
  """Procedural videos of labelled real objects over real photographs."""

  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      PhotoVideoConfig(name='realtrain', num_sequences=300, num_frames=60),
      PhotoVideoConfig(name='realtrain_small', num_sequences=20, num_frames=30),
  ]
  MANUAL_DOWNLOAD_INSTRUCTIONS = 'Optional: a folder of background photographs (any images).'

  def _objects_and_backgrounds(self):
    """(ObjectBank, [cleared still images]) from the config's still datasets."""
    from spm_jax.data import prepare  # pylint: disable=import-outside-toplevel
    root = self._data_dir_root
    patches, cats, cleared = [], [], []
    for name in self.builder_config.objects:
      builder = prepare.get_builder(name, root)
      if not os.path.isdir(builder.data_dir):
        raise DatasetLayoutError(f'{name} is not prepared in {root}; prepare it first: python -m '
                                 f'spm_jax.data.prepare --dataset {name} --manual_dir DIR '
                                 f'--data_dir {root}')
      src = builder.as_data_source(split='train')
      recs = [src[r] for r in range(len(src))]
      recs.sort(key=lambda e: (int(e['video_index']), int(e['frame_index'])))
      for ex in recs:
        img = image_io.decode_image(ex['image'])
        if img is None:
          continue
        names = [c.decode() if isinstance(c, bytes) else str(c) for c in ex['categories']]
        for patch, cat in photo_videos.cut_objects(img, ex['boxes'], names, ex['visible'],
                                                   min_side=self.builder_config.min_side):
          patches.append(patch)
          cats.append(cat)
        b = np.asarray(ex['boxes'], np.float64).reshape(-1, 4)
        if (b[:, 2] * b[:, 3]).sum() <= MAX_CLEARED_SHARE * img.shape[0] * img.shape[1]:
          cleared.append(photo_videos.clear_objects(img, b, max_side=400))
    if not patches:
      raise DatasetLayoutError(f'{self.builder_config.objects}: no visible box of at least '
                               f'{self.builder_config.min_side} pixels to cut out')
    return photo_videos.ObjectBank(patches, cats), cleared

  def _photos(self, dl_manager):
    try:
      folder = str(dl_manager.manual_dir)
    except AssertionError:  # No manual_dir given (or empty).
      return []
    photos = []
    for path in still_layouts.images_under(folder):
      read = image_io.read_checked(path)
      if read is None:
        self.skipped_images += 1
        continue
      photos.append(image_io.decode_image(read[0]))
    return photos

  def _examples(self, dl_manager):
    c = self.builder_config
    bank, cleared = self._objects_and_backgrounds()
    photos = self._photos(dl_manager)
    logger.info('%s: %d cut-outs of %d classes, %d photographs, %d cleared still images',
                self.name, len(bank.patches), len(set(bank.categories)), len(photos), len(cleared))
    if not photos and not cleared:
      raise DatasetLayoutError(f'{c.objects}: no image whose boxes cover at most '
                               f'{MAX_CLEARED_SHARE:.0%} of it (a background); give background '
                               'photographs as manual_dir')
    for vi in range(c.num_sequences):
      seed = synthetic.sequence_seed(c.seed, vi)
      use_photo = photos and (
          not cleared or np.random.default_rng(seed + (1,)).uniform() < c.photo_backgrounds)
      seq = photo_videos.generate_photo_sequence(
          seed, bank, photos if use_photo else cleared, num_frames=c.num_frames, height=c.height,
          width=c.width)
      for t in range(c.num_frames):
        x, y, w, h = seq.boxes[t].T
        keep = np.flatnonzero((x + w > 0) & (y + h > 0) & (x < c.width) & (y < c.height))
        yield f'{vi}/{t}', features.image_example(
            image_io.encode_jpeg(seq.frames[t]), c.height, c.width, vi, t, c.num_frames,
            f'photo_{vi:04d}', seq.boxes[t, keep], keep, [seq.categories[k] for k in keep],
            seq.visible[t, keep])
