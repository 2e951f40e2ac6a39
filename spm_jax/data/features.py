"""The tfds feature spec shared by every builder: one example per image.

Videos and still images use the same per-image example so the sampler treats a
still image as a one-frame video whose objects are separate tracks:

* ``image``: encoded image bytes (JPEG as distributed), a ``Tensor`` of dtype
  object so that neither writing nor reading needs TensorFlow; decode with
  :func:`spm_jax.data.image_io.decode_image`.
* ``height``, ``width``: image size in pixels.
* ``video_index``, ``frame_index``, ``num_frames``: position in the dataset
  (videos sorted by name, frames in time order; a still image is a video of one
  frame). A data source's record order is not the writing order: always use
  these fields.
* ``video_name``: sequence folder / image file name.
* ``boxes``: [N, 4] float32 x, y, w, h (top-left corner and size, 0-based
  continuous pixels, width = x2 - x1) of the N objects annotated in the image.
* ``track_ids``: [N] int32 track id of each object, unique within the video.
* ``categories``: [N] object (bytes) class name of each object.
* ``visible``: [N] bool, not (fully) occluded / out of view.
"""

import numpy as np
import tensorflow_datasets as tfds


def image_features():
  """The ``tfds.features.FeaturesDict`` of one image example."""
  return tfds.features.FeaturesDict({
      'image': tfds.features.Tensor(shape=(), dtype=np.object_),
      'height': np.int32,
      'width': np.int32,
      'video_index': np.int32,
      'frame_index': np.int32,
      'num_frames': np.int32,
      'video_name': tfds.features.Text(),
      'boxes': tfds.features.Tensor(shape=(None, 4), dtype=np.float32),
      'track_ids': tfds.features.Tensor(shape=(None,), dtype=np.int32),
      'categories': tfds.features.Tensor(shape=(None,), dtype=np.object_),
      'visible': tfds.features.Tensor(shape=(None,), dtype=np.bool_),
  })


def image_example(data, height, width, video_index, frame_index, num_frames, video_name,
                  boxes, track_ids, categories, visible):
  """One example dict of :func:`image_features`.

  Args:
    data: encoded image bytes.
    height, width: image size.
    video_index, frame_index, num_frames: position (see module docstring).
    video_name: str.
    boxes: [N, 4] x, y, w, h (0-based continuous pixels).
    track_ids: [N] ints.
    categories: [N] class names (str).
    visible: [N] bools.
  """
  return {
      'image': data,
      'height': int(height),
      'width': int(width),
      'video_index': int(video_index),
      'frame_index': int(frame_index),
      'num_frames': int(num_frames),
      'video_name': video_name,
      'boxes': np.asarray(boxes, np.float32).reshape(-1, 4),
      'track_ids': np.asarray(track_ids, np.int32).reshape(-1),
      'categories': np.asarray([c.encode() for c in categories], dtype=np.object_).reshape(-1),
      'visible': np.asarray(visible, bool).reshape(-1),
  }
