"""tfds builder of tracking videos read from a local folder (GOT-10k, LaSOT, VID).

Configs ``got10k``, ``lasot`` and ``imagenet_vid`` read the dataset's own layout
(see :mod:`spm_jax.data.video_layouts`) from tfds' ``manual_dir``; nothing is
downloaded. One example per frame that has at least one annotated object (see
:mod:`spm_jax.data.features`)::

  python -m spm_jax.data.prepare --dataset spm_tracking_videos/got10k \
      --manual_dir /data/GOT-10k --data_dir ~/tensorflow_datasets
"""

import dataclasses

import tensorflow_datasets as tfds

from spm_jax.data import features, image_io, tfds_base, video_layouts


@dataclasses.dataclass
class VideoConfig(tfds.core.BuilderConfig):
  layout: str = 'got10k'  # key of video_layouts.READERS.


class SpmTrackingVideos(tfds_base.ImageBuilder):
  """Tracking videos (GOT-10k / LaSOT / ImageNet VID layouts) from manual_dir."""

  VERSION = tfds.core.Version('1.0.0')
  BUILDER_CONFIGS = [
      VideoConfig(name='got10k', layout='got10k', description='GOT-10k train'),
      VideoConfig(name='lasot', layout='lasot', description='LaSOT'),
      VideoConfig(name='imagenet_vid', layout='imagenet_vid', description='ImageNet VID train'),
  ]
  MANUAL_DOWNLOAD_INSTRUCTIONS = '\n\n'.join(layout for _, layout in video_layouts.READERS.values())

  @property
  def LAYOUT(self):  # pylint: disable=invalid-name
    return video_layouts.READERS[self.builder_config.layout][1]

  def _examples(self, dl_manager):
    reader = video_layouts.READERS[self.builder_config.layout][0]
    return video_examples(reader(self.manual_root(dl_manager)))


def video_examples(videos):
  """``(key, example)`` of every frame of ``videos`` ([video_layouts.Video]) with an object.

  The example is None for a frame that cannot be read or decoded.
  """
  for vi, video in enumerate(videos):
    for t, path in enumerate(video.frames):
      tracks = [tr for tr in video.tracks if tr.present[t]]
      if not tracks:
        continue
      read = image_io.read_checked(path)
      if read is None:
        yield path, None
        continue
      data, h, w = read
      yield f'{vi}/{t}', features.image_example(
          data, h, w, vi, t, len(video.frames), video.name,
          [tr.boxes[t] for tr in tracks], [tr.track_id for tr in tracks],
          [tr.category for tr in tracks], [tr.visible[t] for tr in tracks])
