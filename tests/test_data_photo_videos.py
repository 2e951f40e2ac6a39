"""Videos of cut-outs over photographs: cuts, masks, visibility and the tfds builder, by hand."""

import os

import cv2
import numpy as np
import pytest

from spm_jax.data import photo_videos, prepare, tfds_photo_videos

# Solid cut-outs over a black photograph: a pixel's owner is told by its colour
# whatever the frame's brightness gain.
COLOURS = np.array([[220, 0, 0], [0, 220, 0], [0, 0, 220], [220, 220, 0], [0, 220, 220],
                    [220, 0, 220]], np.uint8)


def _bank(categories=('a', 'a', 'a', 'b', 'c', 'c')):
  patches = [np.tile(c, (30 + 4 * i, 40, 1)) for i, c in enumerate(COLOURS[:len(categories)])]
  return photo_videos.ObjectBank(patches, list(categories))


def _owner_counts(frame, num_colours):
  """[num_colours] pixels whose on/off channel pattern is that of each colour."""
  on = frame > 60
  pattern = COLOURS > 60
  return np.array([np.all(on == p, -1).sum() for p in pattern[:num_colours]])


def test_cut_objects_crops_the_covering_pixels():
  img = np.arange(40 * 50 * 3, dtype=np.uint32).reshape(40, 50, 3).astype(np.uint8)
  boxes = [[2.5, 3, 30.2, 25], [0, 0, 10, 40], [20, 20, 30, 30], [-5, 10, 35, 28]]
  cuts = photo_videos.cut_objects(img, boxes, ['p', 'q', 'r', 's'], [True, True, False, True],
                                  min_side=24)
  # Box 0 covers columns floor(2.5)=2 .. ceil(32.7)=33 and rows 3 .. 28; box 1 is 10 wide
  # (skipped), box 2 not visible, box 3 clipped to columns 0 .. 30 and rows 10 .. 38.
  assert [c for _, c in cuts] == ['p', 's']
  np.testing.assert_array_equal(cuts[0][0], img[3:28, 2:33])
  np.testing.assert_array_equal(cuts[1][0], img[10:38, 0:30])
  big = photo_videos.cut_objects(np.zeros((400, 300, 3), np.uint8), [[0, 0, 300, 400]], ['x'],
                                 [True], max_side=160)
  assert big[0][0].shape == (160, 120, 3)


def test_feather_mask_by_hand():
  m = photo_videos.feather_mask(10, 4, 0.2)
  # Columns: ramp over max(0.2 * 10, 1) = 2 px: distances 0.5, 1.5, 2.5 -> 0.25, 0.75, 1.
  # Rows: ramp over max(0.8, 1) = 1 px: 0.5, 1, 1, 0.5.
  cols = np.array([0.25, 0.75, 1, 1, 1, 1, 1, 1, 0.75, 0.25])
  rows = np.array([0.5, 1, 1, 0.5])
  np.testing.assert_allclose(m, np.minimum(rows[:, None], cols[None, :]))
  assert photo_videos.feather_mask(7, 3, 0).min() == 1


def test_clear_objects_paints_the_boxes_from_around_them():
  img = np.full((60, 80, 3), 90, np.uint8)
  img[20:40, 30:50] = 250  # an object on a flat background.
  out = photo_videos.clear_objects(img, [[30, 20, 20, 20]])
  assert out.shape == img.shape
  assert np.abs(out.astype(int) - 90).max() <= 10  # was 160 off inside the box.


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_sequence_objects_categories_and_visibility(seed):
  bank = _bank()
  bg = [np.zeros((300, 400, 3), np.uint8)]
  seq = photo_videos.generate_photo_sequence(seed, bank, bg, num_frames=12, height=120, width=160,
                                             min_size=20, max_size=40, feather=0.0)
  again = photo_videos.generate_photo_sequence(seed, bank, bg, num_frames=12, height=120, width=160,
                                               min_size=20, max_size=40, feather=0.0)
  np.testing.assert_array_equal(seq.frames, again.frames)
  cats = seq.categories
  n_same = {'a': 3, 'b': 1, 'c': 2}[cats[0]]
  assert cats[:n_same] == [cats[0]] * n_same and cats[0] not in cats[n_same:]
  assert len(cats) == n_same + 2
  # Which patch each object is: its colour, read from frame 0 where it is most visible.
  colour_of = []
  for i in range(len(cats)):
    t = int(np.argmax(seq.visible_fraction[:, i]))
    x, y, w, h = seq.boxes[t, i].astype(int)
    counts = _owner_counts(seq.frames[t, max(y, 0):y + h, max(x, 0):x + w], len(COLOURS))
    colour_of.append(int(np.argmax(counts)))
  assert len(set(colour_of[:n_same])) == n_same  # different instances of the class.
  for t in range(12):
    counts = _owner_counts(seq.frames[t], len(COLOURS))
    for i, k in enumerate(colour_of):
      x, y, w, h = seq.boxes[t, i]
      assert w == int(w) and h == int(h)
      # A hard-edged cut-out: the drawn share is its colour's pixel count over w h.
      assert seq.visible_fraction[t, i] == pytest.approx(counts[k] / (w * h), abs=1e-6)
  assert seq.visible.dtype == bool
  np.testing.assert_array_equal(seq.visible, seq.visible_fraction >= 0.3)
  x, y, w, h = seq.boxes[:, 0].T  # The target stays inside the frame.
  assert (x >= -1).all() and (y >= -1).all() and (x + w <= 161).all() and (y + h <= 121).all()


def _tiny_stills(root):
  """Four 64 x 48 images each holding one 32 x 29 coloured box, classes a / b."""
  for i in range(4):
    img = np.zeros((48, 64, 3), np.uint8)
    img[10:39, 16:48] = COLOURS[i][::-1]  # BGR on disk.
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    os.makedirs(os.path.join(root, 'labels'), exist_ok=True)
    cv2.imwrite(os.path.join(root, 'images', f'{i}.jpg'), img)
    with open(os.path.join(root, 'labels', f'{i}.txt'), 'w') as f:
      f.write(f'{i % 2} 0.5 0.5 0.5 0.6\n')
  with open(os.path.join(root, 'classes.txt'), 'w') as f:
    f.write('a\nb\n')


def test_builder_reads_prepared_stills_and_photos(tmp_path):
  data_dir = str(tmp_path / 'tfds')
  config = tfds_photo_videos.PhotoVideoConfig(
      name='tiny', objects=('spm_yolo_stills/tiny',), num_sequences=2, num_frames=3, height=60,
      width=80, photo_backgrounds=1.0)
  builder = tfds_photo_videos.SpmPhotoVideos(config=config, data_dir=data_dir)
  with pytest.raises(FileNotFoundError, match=r'spm_yolo_stills/tiny is not prepared'):
    builder.download_and_prepare()
  _tiny_stills(tmp_path / 'stills')
  prepare.prepare('spm_yolo_stills/tiny', data_dir, str(tmp_path / 'stills'))
  photos = tmp_path / 'photos'
  photos.mkdir()
  cv2.imwrite(str(photos / 'grey.png'), np.full((100, 120, 3), 77, np.uint8))
  builder = tfds_photo_videos.SpmPhotoVideos(config=config, data_dir=data_dir)
  builder.download_and_prepare(
      download_config=prepare.tfds.download.DownloadConfig(manual_dir=str(photos)))
  src = builder.as_data_source(split='train')
  recs = sorted((src[i] for i in range(len(src))),
                key=lambda e: (int(e['video_index']), int(e['frame_index'])))
  assert [(int(r['video_index']), int(r['frame_index'])) for r in recs] == [
      (v, t) for v in range(2) for t in range(3)]
  for r in recs:
    assert 0 in r['track_ids'] and r['num_frames'] == 3 and (r['height'], r['width']) == (60, 80)
    assert set(r['categories']) <= {b'a', b'b'}
    img = cv2.imdecode(np.frombuffer(r['image'], np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (60, 80, 3)
    # The grey photograph is the background: the frame's corners are grey unless covered.
    corners = [img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]]
    assert any(np.abs(c.astype(int) - 77).max() < 20 for c in corners) or len(r['boxes']) > 2
