"""One rule for every path that reads images: a JPEG or PNG cut short is unreadable.

``cv2.imread`` decodes a JPEG cut at 50 % or 90 % into a whole-size image (the
missing rows grey) with only a libjpeg warning on stderr; these tests check that
tracking folders, benchmark sequences and the training readers all skip it.
"""

import os

import cv2
import numpy as np
import pytest

from spm_jax import video_io
from spm_jax.data import image_io
from spm_jax.evaluation import datasets

CUTS = (0.5, 0.9)


def _image(seed=0, shape=(48, 64)):
  rng = np.random.default_rng(seed)
  return cv2.GaussianBlur((rng.random(shape + (3,)) * 255).astype(np.uint8), (7, 7), 2)


def _write(path, image, cut=None, **params):
  ok, buf = cv2.imencode(os.path.splitext(str(path))[1], image, *params.values())
  assert ok
  data = buf.tobytes()
  path.write_bytes(data if cut is None else data[:int(len(data) * cut)])
  return data


@pytest.mark.parametrize('cut', CUTS)
def test_opencv_alone_decodes_a_cut_jpeg_that_the_reader_refuses(tmp_path, cut):
  path = tmp_path / 'cut.jpg'
  _write(path, _image(), cut)
  partial = cv2.imread(str(path))  # The silent wrong frame this reader exists for.
  if partial is not None:
    assert partial.shape == (48, 64, 3)
  with pytest.raises(image_io.ImageReadError, match='truncated JPEG') as exc:
    image_io.read_image(path)
  assert str(path) in str(exc.value)
  assert image_io.read_checked(str(path)) is None
  assert image_io.decode_image(path.read_bytes()) is None


@pytest.mark.parametrize('ext', ['.jpg', '.png'])
@pytest.mark.parametrize('cut', CUTS)
def test_every_cut_is_refused_and_whole_files_read(tmp_path, ext, cut):
  image = _image(1)
  whole = tmp_path / f'whole{ext}'
  data = _write(whole, image)
  got = image_io.read_image(whole)
  if ext == '.png':  # lossless: exact RGB
    np.testing.assert_array_equal(got, image[..., ::-1])
  assert got.shape == (48, 64, 3)
  cut_path = tmp_path / f'cut{ext}'
  cut_path.write_bytes(data[:int(len(data) * cut)])
  with pytest.raises(image_io.ImageReadError, match='truncated'):
    image_io.read_image(cut_path)


def test_complete_files_with_extras_are_read(tmp_path):
  """A progressive JPEG (several scans) and bytes after the end marker are complete."""
  image = _image(2)
  prog = tmp_path / 'prog.jpg'
  data = _write(prog, image, None, p=[cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
  assert image_io.read_image(prog).shape == (48, 64, 3)
  for cut in CUTS:
    assert image_io.incomplete_reason(data[:int(len(data) * cut)]) is not None
  trailing = tmp_path / 'trailing.jpg'
  trailing.write_bytes(data + b'\x00' * 16 + b'camera padding')
  assert image_io.read_image(trailing).shape == (48, 64, 3)


def _folder(tmp_path, n=5, cut_at=(2,), cut=0.5):
  folder = tmp_path / 'img'
  folder.mkdir()
  for i in range(n):
    _write(folder / f'{i + 1:04d}.jpg', _image(i), cut if i in cut_at else None)
  return folder


@pytest.mark.parametrize('cut', CUTS)
def test_frame_folder_skips_and_counts_cut_jpegs(tmp_path, cut):
  """scripts/track.py --frames: the cut frame is None and listed in ``unreadable``."""
  folder = _folder(tmp_path, cut=cut)
  with video_io.FrameSource.open(frames=str(folder)) as source:
    frames = list(source)
  assert [f is None for f in frames] == [False, False, True, False, False]
  assert [os.path.basename(p) for p in source.unreadable] == ['0003.jpg']


@pytest.mark.parametrize('cut', CUTS)
def test_benchmark_sequence_skips_cut_jpegs(tmp_path, cut):
  """Evaluation (ope.track_sequence reads with skip_unreadable=True)."""
  folder = _folder(tmp_path, cut=cut)
  paths = [str(folder / f'{i + 1:04d}.jpg') for i in range(5)]
  seq = datasets.Sequence('s', paths, np.tile([1.0, 1.0, 10.0, 10.0], (5, 1)))
  frames = list(seq.iter_frames(skip_unreadable=True))
  assert [f is None for f in frames] == [False, False, True, False, False]
  with pytest.raises(OSError, match='0003.jpg.*truncated JPEG'):
    seq.frame(2)


def test_first_frame_cut_is_an_error_naming_it(tmp_path):
  folder = _folder(tmp_path, cut_at=(0,), cut=0.9)
  with video_io.FrameSource.open(frames=str(folder)) as source:
    with pytest.raises(video_io.VideoReadError, match='0001.jpg.*truncated'):
      next(iter(source))
