"""YOLO, Pascal VOC and MOT folders -> tfds records, boxes checked against hand-computed pixels."""

import logging
import os

import cv2
import numpy as np
import pytest

from spm_jax.data import prepare
from spm_jax.data.errors import AnnotationError, DatasetLayoutError

H, W = 48, 64  # Every fixture image: 64 wide, 48 high.


def _jpeg(path, value=100):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  img = np.full((H, W, 3), value, np.uint8)
  assert cv2.imwrite(str(path), img)


def _write(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(text)


def _records(source):
  return sorted((source[i] for i in range(len(source))),
                key=lambda e: (int(e['video_index']), int(e['frame_index'])))


def _build(dataset, tmp_path, root):
  builder = prepare.prepare(dataset, str(tmp_path / 'tfds'), str(root))
  return builder, _records(builder.as_data_source(split='train'))


def _by_name(recs):
  return {r['video_name'].decode(): r for r in recs}


# ------------------------------------------------------------------- YOLO ---

def _yolo(root, split_first=False, names_file='classes.yaml'):
  """Two splits; image a: two boxes, b: one box, c: no label file, d: empty label file."""
  def d(kind, split):
    return os.path.join(root, split, kind) if split_first else os.path.join(root, kind, split)
  for split, stem in (('train', 'a'), ('train', 'c'), ('val', 'b'), ('val', 'd')):
    _jpeg(os.path.join(d('images', split), f'{stem}.jpg'))
  _write(os.path.join(d('labels', 'train'), 'a.txt'),
         '0 0.5 0.5 0.25 0.5\n1 0.1 0.9 0.4 0.4\n')
  _write(os.path.join(d('labels', 'val'), 'b.txt'), '2 0.75 0.25 0.5 0.5\n')
  _write(os.path.join(d('labels', 'val'), 'd.txt'), '\n')
  if names_file == 'classes.yaml':
    _write(os.path.join(root, 'classes.yaml'), 'path: .\nnames:\n  0: person\n  1: dog\n  2: bus\n')
  elif names_file == 'data.yaml':
    _write(os.path.join(root, 'data.yaml'), 'nc: 3\nnames: [person, dog, bus]\n')
  elif names_file == 'classes.txt':
    _write(os.path.join(root, 'classes.txt'), 'person\ndog\nbus\n')


# Hand-computed for a 64 x 48 image (x, y, w, h in pixels):
# 0.5 0.5 0.25 0.5 -> x1 = (0.5 - 0.125) 64 = 24, y1 = (0.5 - 0.25) 48 = 12, w = 16, h = 24.
# 0.1 0.9 0.4 0.4 -> x1 = -0.1 * 64 -> 0 (clipped), x2 = 0.3 * 64 = 19.2,
#   y1 = 0.7 * 48 = 33.6, y2 = 1.1 * 48 -> 48 (clipped): 0, 33.6, 19.2, 14.4.
# 0.75 0.25 0.5 0.5 -> x1 = 0.5 * 64 = 32, y1 = 0, w = 32, h = 24.
A_BOXES = [[24, 12, 16, 24], [0, 33.6, 19.2, 14.4]]
B_BOXES = [[32, 0, 32, 24]]


@pytest.mark.parametrize('split_first,names_file', [
    (False, 'classes.yaml'), (True, 'data.yaml'), (False, 'classes.txt')])
def test_yolo_boxes_in_pixels_and_class_names(tmp_path, split_first, names_file):
  _yolo(tmp_path / 'y', split_first, names_file)
  builder, recs = _build('spm_yolo_stills/mine', tmp_path, tmp_path / 'y')
  assert builder.skipped_images == 0
  recs = _by_name(recs)
  assert sorted(recs) == ['train/a.jpg', 'val/b.jpg']  # c, d: no objects.
  a, b = recs['train/a.jpg'], recs['val/b.jpg']
  np.testing.assert_allclose(a['boxes'], A_BOXES, atol=1e-4)
  np.testing.assert_allclose(b['boxes'], B_BOXES, atol=1e-4)
  assert list(a['categories']) == [b'person', b'dog'] and list(b['categories']) == [b'bus']
  assert list(a['track_ids']) == [0, 1] and a['num_frames'] == 1 and a['frame_index'] == 0
  assert (a['height'], a['width']) == (H, W) and all(a['visible'])


def test_yolo_one_split_and_polygon_and_unnamed_classes(tmp_path):
  root = tmp_path / 'y'
  _yolo(root, names_file=None)
  _write(os.path.join(root, 'labels', 'val', 'b.txt'), '7 0.25 0.25 0.75 0.25 0.5 0.75\n')
  _, recs = _build('spm_yolo_stills/mine.val', tmp_path, root)
  assert [r['video_name'] for r in recs] == [b'val/b.jpg']
  # Points (16, 12), (48, 12), (32, 36): box 16, 12, 32, 24.
  np.testing.assert_allclose(recs[0]['boxes'], [[16, 12, 32, 24]], atol=1e-4)
  assert list(recs[0]['categories']) == [b'class_7']


def test_yolo_bad_label_and_unknown_class(tmp_path):
  root = tmp_path / 'y'
  _yolo(root)
  _write(os.path.join(root, 'labels', 'val', 'b.txt'), '2 0.75 0.25 0.5\n')
  with pytest.raises(AnnotationError, match=r'labels/val/b.txt:1: expected'):
    prepare.prepare('spm_yolo_stills/mine', str(tmp_path / 'tfds'), str(root))
  _write(os.path.join(root, 'labels', 'val', 'b.txt'), '9 0.75 0.25 0.5 0.5\n')
  with pytest.raises(AnnotationError, match=r'b.txt:1: class 9 has no name'):
    prepare.prepare('spm_yolo_stills/mine', str(tmp_path / 'tfds2'), str(root))


def test_yolo_truncated_image_skipped_and_counted(tmp_path, caplog):
  root = tmp_path / 'y'
  _yolo(root)
  path = os.path.join(root, 'images', 'train', 'a.jpg')
  with open(path, 'rb') as f:
    data = f.read()
  with open(path, 'wb') as f:
    f.write(data[:len(data) // 2])
  with caplog.at_level(logging.WARNING):
    builder, recs = _build('spm_yolo_stills/mine', tmp_path, root)
  assert builder.skipped_images == 1
  assert any('a.jpg' in r.getMessage() for r in caplog.records)
  assert [r['video_name'] for r in recs] == [b'val/b.jpg']


# -------------------------------------------------------------------- VOC ---

def _voc_xml(filename, objects):
  objs = ''.join(
      f'<object><name>{name}</name><difficult>{diff}</difficult><bndbox><xmin>{x1}</xmin>'
      f'<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>'
      for name, x1, y1, x2, y2, diff in objects)
  return (f'<annotation><folder>x</folder><filename>{filename}</filename><size><width>{W}</width>'
          f'<height>{H}</height><depth>3</depth></size>{objs}</annotation>')


def test_voc_boxes_images_found_from_xml_filename(tmp_path):
  root = tmp_path / 'voc'
  _jpeg(os.path.join(root, 'images', 'k1.jpg'))
  _jpeg(os.path.join(root, 'images', 'k2.jpg'))
  _write(os.path.join(root, 'annots', '001.xml'),
         _voc_xml('k1.jpg', [('kangaroo', 5, 10, 20, 30, 0), ('kangaroo', 1, 1, 64, 48, 1)]))
  # A path-like filename and another extension: found by its stem.
  _write(os.path.join(root, 'annots', '002.xml'),
         _voc_xml('C:\\photos\\k2.png', [('joey', 40, 2, 50, 12, 0)]))
  _write(os.path.join(root, 'annots', '003.xml'), _voc_xml('k3.jpg', []))  # No object.
  builder, recs = _build('spm_voc_stills/kangaroo', tmp_path, root)
  assert builder.skipped_images == 0
  recs = _by_name(recs)
  assert sorted(recs) == ['images/k1.jpg', 'images/k2.jpg']
  k1, k2 = recs['images/k1.jpg'], recs['images/k2.jpg']
  # 1-based inclusive (5, 10)-(20, 30) -> x = 4, y = 9, w = 20 - 5 + 1 = 16, h = 21.
  np.testing.assert_allclose(k1['boxes'], [[4, 9, 16, 21], [0, 0, 64, 48]])
  assert list(k1['visible']) == [True, False]  # difficult.
  np.testing.assert_allclose(k2['boxes'], [[39, 1, 11, 11]])
  assert list(k2['categories']) == [b'joey']


def test_voc_imagesets_split_and_missing_image(tmp_path, caplog):
  root = tmp_path / 'VOCdevkit'
  voc = os.path.join(root, 'VOC2007')
  for stem in ('000001', '000002', '000003'):
    _write(os.path.join(voc, 'Annotations', f'{stem}.xml'),
           _voc_xml(f'{stem}.jpg', [('cat', 2, 3, 12, 13, 0)]))
  _jpeg(os.path.join(voc, 'JPEGImages', '000001.jpg'))
  _jpeg(os.path.join(voc, 'JPEGImages', '000003.jpg'))
  _write(os.path.join(voc, 'ImageSets', 'Main', 'train.txt'), '000001\n000002\n')
  with caplog.at_level(logging.WARNING):
    builder, recs = _build('spm_voc_stills/voc.train', tmp_path, root)
  assert [r['video_name'] for r in recs] == [b'VOC2007/JPEGImages/000001.jpg']
  assert builder.skipped_images == 1  # 000002.jpg is missing.
  np.testing.assert_allclose(recs[0]['boxes'], [[1, 2, 11, 11]])


# -------------------------------------------------------------------- MOT ---

def _mot_seq(seq, lines, frames=4, seqinfo=True, labels=None):
  for t in range(1, frames + 1):
    _jpeg(os.path.join(seq, 'img1', f'{t:06d}.jpg'), 30 * t)
  _write(os.path.join(seq, 'gt', 'gt.txt'), ''.join(line + '\n' for line in lines))
  if seqinfo:
    _write(os.path.join(seq, 'seqinfo.ini'),
           f'[Sequence]\nname=x\nimDir=img1\nframeRate=30\nseqLength={frames}\n'
           f'imWidth={W}\nimHeight={H}\nimExt=.jpg\n')
  if labels:
    _write(os.path.join(seq, 'gt', 'labels.txt'), '\n'.join(labels) + '\n')


def test_mot_tracks_visibility_and_classes(tmp_path):
  root = tmp_path / 'mot'
  _mot_seq(os.path.join(root, 'train', 'SEQ-01'), [
      '1,1,11,21,30,12,1,1,1',
      '3,1,12,22,30,12,1,1,0.2',  # visibility under 0.3: present, not visible.
      '3,2,1,1,5,5,0,3,1',  # conf 0: present, not visible.
      '4,2,2,2,5,5,1,3,0.9',
  ])
  _mot_seq(os.path.join(root, 'train', 'SEQ-02'), ['2,5,1,1,10,10,1,2,1'], frames=2,
           seqinfo=False, labels=['ball', 'kangaroo'])
  _mot_seq(os.path.join(root, 'MOT15-like'), ['1,1,2,3,4,5,1,-1,-1,-1'], frames=1)
  builder, recs = _build('spm_mot_videos/mine.train', tmp_path, root)
  assert builder.skipped_images == 0
  # SEQ-01: frames 1, 3, 4 hold objects (frame 2 stored nothing); SEQ-02: frame 2.
  assert [(r['video_name'], int(r['frame_index'])) for r in recs] == [
      (b'train/SEQ-01', 0), (b'train/SEQ-01', 2), (b'train/SEQ-01', 3), (b'train/SEQ-02', 1)]
  assert all(r['num_frames'] == 4 for r in recs[:3]) and recs[3]['num_frames'] == 2
  f3 = recs[1]
  np.testing.assert_allclose(f3['boxes'], [[11, 21, 30, 12], [0, 0, 5, 5]])  # 1-based -> 0-based.
  assert list(f3['track_ids']) == [1, 2] and list(f3['visible']) == [False, False]
  assert list(f3['categories']) == [b'pedestrian', b'car']
  assert list(recs[2]['visible']) == [True]
  assert list(recs[3]['categories']) == [b'kangaroo'] and list(recs[3]['track_ids']) == [5]
  # Every split: MOT15's -1 columns (class, visibility not given).
  _, recs = _build('spm_mot_videos/all', tmp_path, root)
  r = _by_name(recs)['MOT15-like']
  assert list(r['categories']) == [b'object'] and list(r['visible']) == [True]
  np.testing.assert_allclose(r['boxes'], [[1, 2, 4, 5]])


def test_mot_errors(tmp_path):
  root = tmp_path / 'mot'
  _mot_seq(os.path.join(root, 'a'), ['1,1,11,21,30'])
  with pytest.raises(AnnotationError, match=r'a/gt/gt.txt:1: expected "frame,id'):
    prepare.prepare('spm_mot_videos/m', str(tmp_path / 'tfds'), str(root))
  _mot_seq(os.path.join(root, 'a'), ['9,1,11,21,30,4'], seqinfo=False)
  os.remove(os.path.join(root, 'a', 'seqinfo.ini'))
  with pytest.raises(AnnotationError, match=r'frame 9 but .*img1 has 4 images'):
    prepare.prepare('spm_mot_videos/m', str(tmp_path / 'tfds2'), str(root))


# ----------------------------------------------------- layouts and names ---

@pytest.mark.parametrize('dataset,expected', [
    ('spm_yolo_stills/x', r'YOLO: ROOT/images/<split>'),
    ('spm_voc_stills/x', r'Pascal VOC: XML files'),
    ('spm_mot_videos/x', r'MOT: ROOT/<seq>/'),
])
def test_bad_layout_is_one_line_naming_folder_and_layout(tmp_path, dataset, expected):
  root = tmp_path / 'stuff'
  _write(os.path.join(root, 'readme.md'), 'no dataset here')
  with pytest.raises(DatasetLayoutError) as err:
    prepare.prepare(dataset, str(tmp_path / 'tfds'), str(root))
  msg = str(err.value)
  assert '\n' not in msg and str(root) in msg
  assert pytest.importorskip('re').search(expected, msg)
  with pytest.raises(DatasetLayoutError, match=r'nowhere.*' + expected.split(':')[0]) as err:
    prepare.prepare(dataset, str(tmp_path / 'tfds'), str(tmp_path / 'nowhere'))
  assert '\n' not in str(err.value)


def test_config_name_must_be_label_or_label_dot_split(tmp_path):
  with pytest.raises(ValueError, match=r'LABEL or LABEL.SPLIT'):
    prepare.get_builder('spm_yolo_stills', str(tmp_path))
  with pytest.raises(ValueError, match=r'LABEL or LABEL.SPLIT'):
    prepare.get_builder('spm_yolo_stills/a/b', str(tmp_path))
  assert prepare.get_builder('spm_voc_stills/voc.trainval', str(tmp_path)).builder_config.split == \
      'trainval'


def test_show_pairs_draws_a_batch_of_stills(tmp_path):
  import sys  # pylint: disable=import-outside-toplevel
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  sys.path.insert(0, os.path.join(root, 'scripts'))
  try:
    import show_pairs  # pylint: disable=import-outside-toplevel
  finally:
    sys.path.remove(os.path.join(root, 'scripts'))
  _yolo(tmp_path / 'y')
  prepare.prepare('spm_yolo_stills/mine', str(tmp_path / 'tfds'), str(tmp_path / 'y'))
  out = tmp_path / 'pairs.png'
  show_pairs.main(['--config', os.path.join(root, 'configs', 'synthetic.py') + ':runlocal',
                   '--data_dir', str(tmp_path / 'tfds'), '--stills', 'spm_yolo_stills/mine',
                   '--videos=', '--pairs', '3', '--columns', '2', '--out', str(out)])
  sheet = cv2.imread(str(out))
  # Two rows of two pairs: template 127 + 6 + search crop, search crop + 22 caption pixels high.
  assert sheet.shape[0] % 2 == 0 and sheet.shape[1] % 2 == 0
  half = sheet.shape[1] // 2
  search = half - 127 - 6
  assert sheet.shape[0] == 2 * (search + 22)
