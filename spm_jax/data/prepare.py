"""Builds one of the tfds datasets of this package from local folders.

::

  python -m spm_jax.data.prepare --dataset spm_synthetic_videos/tiny --data_dir DIR
  python -m spm_jax.data.prepare --dataset spm_tracking_videos/got10k \
      --manual_dir /data/GOT-10k --data_dir DIR
  python -m spm_jax.data.prepare --dataset spm_coco_stills/train2017 \
      --manual_dir /data/coco --data_dir DIR
  python -m spm_jax.data.prepare --dataset spm_yolo_stills/coco128 \
      --manual_dir /data/coco128 --data_dir DIR

Files are ``array_record``; nothing is downloaded.
"""

import tensorflow_datasets as tfds
from absl import app
from absl import flags

from spm_jax import cli

from spm_jax.data import tfds_coco, tfds_folders, tfds_photo_videos, tfds_synthetic, tfds_videos

BUILDERS = {
    'spm_tracking_videos': tfds_videos.SpmTrackingVideos,
    'spm_coco_stills': tfds_coco.SpmCocoStills,
    'spm_synthetic_videos': tfds_synthetic.SpmSyntheticVideos,
    'spm_yolo_stills': tfds_folders.SpmYoloStills,
    'spm_voc_stills': tfds_folders.SpmVocStills,
    'spm_mot_videos': tfds_folders.SpmMotVideos,
    'spm_photo_videos': tfds_photo_videos.SpmPhotoVideos,
}


def get_builder(dataset, data_dir):
  """``'name/config'`` -> builder writing/reading array_record under ``data_dir``."""
  name, _, config = dataset.partition('/')
  if name not in BUILDERS:
    raise ValueError(f'unknown dataset {name!r}; known: {sorted(BUILDERS)}')
  cls = BUILDERS[name]
  if hasattr(cls, 'named_config'):  # Own folders: the config is made from its name.
    config = cls.named_config(config)
  return cls(config=config or None, data_dir=data_dir, file_format='array_record')


def prepare(dataset, data_dir, manual_dir=None):
  """Builds ``dataset`` ('name/config') if needed and returns its builder."""
  builder = get_builder(dataset, data_dir)
  builder.download_and_prepare(
      download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
  return builder


def load_source(dataset, data_dir, split='train'):
  """Random-access data source of a prepared dataset (no TensorFlow)."""
  return get_builder(dataset, data_dir).as_data_source(split=split)


def define_flags():
  """The command line (``cli.absl_run`` defines it when the command runs)."""
  flags.DEFINE_string('dataset', None, 'name/config, e.g. spm_tracking_videos/got10k.')
  flags.DEFINE_string('data_dir', None, 'tfds data folder to write.')
  flags.DEFINE_string('manual_dir', None, 'Folder holding the dataset as distributed.')
  flags.mark_flags_as_required(['dataset', 'data_dir'])


def main(argv=None):
  """Runs the command on ``argv`` (without the program name; default ``sys.argv[1:]``)."""
  return cli.absl_run(_run, argv, define_flags)


def _run(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  args = flags.FLAGS
  builder = prepare(args.dataset, args.data_dir, args.manual_dir)
  print(f'{args.dataset}: {builder.info.splits["train"].num_examples} examples in '
        f'{builder.data_dir}; skipped images: {builder.skipped_images}')


if __name__ == '__main__':
  main()
