"""tfds builder of the procedural videos of :mod:`spm_jax.data.synthetic`.

Needs no files: training runs offline on it. Configs differ in size only; the
videos are the same for the same ``seed``. One example per frame with every
object that overlaps the frame (object 0 of each video is the target; its
track id is 0)::

  python -m spm_jax.data.prepare --dataset spm_synthetic_videos/tiny \
      --data_dir ~/tensorflow_datasets
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from spm_jax.data import features, image_io, synthetic, tfds_base


@dataclasses.dataclass
class SyntheticConfig(tfds.core.BuilderConfig):
  num_sequences: int = 8
  num_frames: int = 40
  height: int = 240
  width: int = 320
  seed: int = 0


class SpmSyntheticVideos(tfds_base.ImageBuilder):
  """Procedural textured-object videos (no manual files)."""

  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      SyntheticConfig(name='tiny', num_sequences=8, num_frames=40),
      SyntheticConfig(name='small', num_sequences=64, num_frames=100),
      SyntheticConfig(name='default', num_sequences=500, num_frames=100),
  ]

  def _examples(self, dl_manager):
    del dl_manager
    c = self.builder_config
    for vi in range(c.num_sequences):
      seq = synthetic.generate_sequence(synthetic.sequence_seed(c.seed, vi),
                                        num_frames=c.num_frames, height=c.height, width=c.width)
      names = [synthetic.CATEGORY_NAMES[k] for k in seq.categories]
      for t in range(c.num_frames):
        x, y, w, h = seq.boxes[t].T
        inside = (x + w > 0) & (y + h > 0) & (x < c.width) & (y < c.height)
        keep = np.flatnonzero(inside)
        yield f'{vi}/{t}', features.image_example(
            image_io.encode_jpeg(seq.frames[t]), c.height, c.width, vi, t, c.num_frames,
            synthetic.sequence_name(vi), seq.boxes[t, keep], keep,
            [names[k] for k in keep], seq.visible[t, keep])
