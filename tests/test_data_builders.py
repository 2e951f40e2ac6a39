"""The tfds builders read fixture folders written in each dataset's exact layout."""

import json
import logging
import os

import cv2
import numpy as np
import pytest

from spm_jax.data import prepare
from spm_jax.data.errors import AnnotationError, DatasetLayoutError


def _jpeg(path, value=128, size=(48, 64)):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  img = np.full(size + (3,), value, np.uint8)
  img[5:20, 5:30] = 255 - value
  assert cv2.imwrite(str(path), img)


def _write(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(text)


def _got10k(root, bad_line=False, bad_image=False):
  for s, cls in enumerate(['ant', 'bear']):
    seq = os.path.join(root, 'train', f'GOT-10k_Train_{s + 1:06d}')
    for t in range(3):
      _jpeg(os.path.join(seq, f'{t + 1:08d}.jpg'), 40 * t)
    lines = [f'{10 + t},{5 + t},20.5,15' for t in range(3)]
    if bad_line and s == 1:
      lines[1] = '11,6,20.5'
    _write(os.path.join(seq, 'groundtruth.txt'), '\n'.join(lines) + '\n')
    _write(os.path.join(seq, 'absence.label'), '0\n1\n0\n')
    _write(os.path.join(seq, 'cover.label'), '8\n0\n5\n')
    _write(os.path.join(seq, 'meta_info.ini'),
           f'[METAINFO]\nurl: x\nbegin_frame: 1\nobject_class: {cls}\nmotion_class: walking\n')
  if bad_image:
    _write(os.path.join(root, 'train', 'GOT-10k_Train_000001', '00000002.jpg'), 'not a jpeg')
  _write(os.path.join(root, 'train', 'list.txt'), 'GOT-10k_Train_000001\nGOT-10k_Train_000002\n')


def _records(source):
  return sorted((source[i] for i in range(len(source))),
                key=lambda e: (int(e['video_index']), int(e['frame_index'])))


def test_got10k(tmp_path):
  _got10k(tmp_path / 'got')
  src = prepare.prepare('spm_tracking_videos/got10k', str(tmp_path / 'tfds'),
                        str(tmp_path / 'got')).as_data_source(split='train')
  recs = _records(src)
  assert len(recs) == 6
  r = recs[4]  # video 1, frame 1
  assert (r['video_index'], r['frame_index'], r['num_frames']) == (1, 1, 3)
  assert r['video_name'] == b'GOT-10k_Train_000002'
  np.testing.assert_allclose(r['boxes'], [[11, 6, 20.5, 15]])
  assert list(r['categories']) == [b'bear'] and list(r['track_ids']) == [0]
  assert [bool(x['visible'][0]) for x in recs[3:]] == [True, False, True]  # absent/covered
  img = cv2.imdecode(np.frombuffer(r['image'], np.uint8), cv2.IMREAD_COLOR)
  assert img.shape == (48, 64, 3) and (r['height'], r['width']) == (48, 64)


def test_lasot(tmp_path):
  root = tmp_path / 'lasot'
  for n in (1, 2):
    seq = os.path.join(root, 'airplane', f'airplane-{n}')
    for t in range(4):
      _jpeg(os.path.join(seq, 'img', f'{t + 1:08d}.jpg'))
    _write(os.path.join(seq, 'groundtruth.txt'),
           ''.join(f'{11 + t},{21},{30},{12}\n' for t in range(4)))
    _write(os.path.join(seq, 'full_occlusion.txt'), '0,0,1,0')
    _write(os.path.join(seq, 'out_of_view.txt'), '0,0,0,1')
    _write(os.path.join(seq, 'nlp.txt'), 'a plane')
  src = prepare.prepare('spm_tracking_videos/lasot', str(tmp_path / 'tfds'),
                        str(root)).as_data_source(split='train')
  recs = _records(src)
  assert len(recs) == 8
  np.testing.assert_allclose(recs[1]['boxes'], [[11, 20, 30, 12]])  # 1-based -> 0-based.
  assert [bool(r['visible'][0]) for r in recs[:4]] == [True, True, False, False]
  assert recs[5]['video_name'] == b'airplane-2' and recs[5]['categories'][0] == b'airplane'


def _vid_xml(filename, objects):
  objs = ''.join(
      f'<object><trackid>{tid}</trackid><name>{name}</name><bndbox><xmax>{x2}</xmax>'
      f'<xmin>{x1}</xmin><ymax>{y2}</ymax><ymin>{y1}</ymin></bndbox><occluded>{occ}</occluded>'
      f'<generated>0</generated></object>' for tid, name, x1, y1, x2, y2, occ in objects)
  return (f'<annotation><folder>x</folder><filename>{filename}</filename><source>'
          f'<database>ILSVRC_2015</database></source><size><width>64</width><height>48</height>'
          f'</size>{objs}</annotation>')


def test_imagenet_vid(tmp_path):
  root = tmp_path / 'ILSVRC2015'
  snip = 'ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000'
  for t in range(3):
    _jpeg(os.path.join(root, 'Data', 'VID', 'train', snip, f'{t:06d}.JPEG'))
    objs = [(0, 'n02691156', 2 + t, 3, 30, 20, 0), (1, 'n02691156', 40, 10, 60, 40, int(t == 2))]
    if t == 1:
      objs.append((2, 'n02084071', 1, 1, 10, 10, 0))
    _write(os.path.join(root, 'Annotations', 'VID', 'train', snip, f'{t:06d}.xml'),
           _vid_xml(f'{t:06d}', objs))
  src = prepare.prepare('spm_tracking_videos/imagenet_vid', str(tmp_path / 'tfds'),
                        str(root)).as_data_source(split='train')
  recs = _records(src)
  assert len(recs) == 3
  r = recs[1]
  assert list(r['track_ids']) == [0, 1, 2]
  assert list(r['categories']) == [b'n02691156', b'n02691156', b'n02084071']
  np.testing.assert_allclose(r['boxes'][0], [3, 3, 27, 17])  # xmin, ymin, xmax - xmin, ...
  assert list(recs[2]['visible']) == [True, False]  # occluded track 1 in frame 2.


def test_coco(tmp_path):
  root = tmp_path / 'coco'
  for i in (1, 2, 3):
    _jpeg(os.path.join(root, 'val2017', f'{i:012d}.jpg'))
  ann = {
      'images': [{'id': i, 'file_name': f'{i:012d}.jpg', 'height': 48, 'width': 64} for i in (1, 2, 3)],
      'categories': [{'id': 1, 'name': 'person'}, {'id': 18, 'name': 'dog'}],
      'annotations': [
          {'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1, 2, 10, 20], 'iscrowd': 0},
          {'id': 2, 'image_id': 1, 'category_id': 1, 'bbox': [30, 2, 10, 20], 'iscrowd': 0},
          {'id': 3, 'image_id': 1, 'category_id': 18, 'bbox': [5, 25, 20, 10], 'iscrowd': 0},
          {'id': 4, 'image_id': 2, 'category_id': 18, 'bbox': [5, 5, 20, 10], 'iscrowd': 1},
          {'id': 5, 'image_id': 3, 'category_id': 18, 'bbox': [5, 5, 20, 10.5], 'iscrowd': 0},
      ]}
  _write(os.path.join(root, 'annotations', 'instances_val2017.json'), json.dumps(ann))
  src = prepare.prepare('spm_coco_stills/val2017', str(tmp_path / 'tfds'),
                        str(root)).as_data_source(split='train')
  recs = _records(src)
  assert len(recs) == 2  # image 2 has only a crowd box.
  assert list(recs[0]['categories']) == [b'person', b'person', b'dog']
  np.testing.assert_allclose(recs[0]['boxes'][1], [30, 2, 10, 20])
  assert recs[1]['video_name'] == b'000000000003.jpg' and recs[1]['num_frames'] == 1


def test_malformed_line_names_file_and_line(tmp_path):
  _got10k(tmp_path / 'got', bad_line=True)
  with pytest.raises(AnnotationError, match=r'GOT-10k_Train_000002/groundtruth.txt:2'):
    prepare.prepare('spm_tracking_videos/got10k', str(tmp_path / 'tfds'), str(tmp_path / 'got'))


def test_empty_or_missing_folder(tmp_path):
  empty = tmp_path / 'empty'
  empty.mkdir()
  with pytest.raises(DatasetLayoutError, match=r'(?s)empty.*GOT-10k'):
    prepare.prepare('spm_tracking_videos/got10k', str(tmp_path / 'tfds'), str(empty))
  (empty / 'README').write_text('nothing here')
  with pytest.raises(DatasetLayoutError, match=r'(?s)empty.*groundtruth.txt'):
    prepare.prepare('spm_tracking_videos/got10k', str(tmp_path / 'tfds'), str(empty))
  with pytest.raises(DatasetLayoutError, match=r'(?s)nowhere.*instances'):
    prepare.prepare('spm_coco_stills/val2017', str(tmp_path / 'tfds2'), str(tmp_path / 'nowhere'))


def test_undecodable_image_is_skipped_and_counted(tmp_path, caplog):
  _got10k(tmp_path / 'got', bad_image=True)
  with caplog.at_level(logging.WARNING):
    builder = prepare.prepare('spm_tracking_videos/got10k', str(tmp_path / 'tfds'),
                              str(tmp_path / 'got'))
  assert builder.skipped_images == 1
  assert any('00000002.jpg' in r.getMessage() for r in caplog.records)
  recs = _records(builder.as_data_source(split='train'))
  assert len(recs) == 5
  assert [(r['video_index'], r['frame_index']) for r in recs[:2]] == [(0, 0), (0, 2)]
