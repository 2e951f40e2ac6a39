"""Dataset folders and annotation files that are missing or malformed (docs/reliability.md).

Every error names the file (and the line, for text annotations); an image that
does not decode is skipped, logged and counted. The tfds builders' own tests
(``test_data_builders.py``) and the benchmark loaders' (``test_eval_datasets.py``)
cover the rest of the layouts.
"""

import json
import logging
import os

import cv2
import numpy as np
import pytest

from spm_jax.data import coco_layout, image_io, prepare, video_layouts
from spm_jax.data.errors import AnnotationError, DatasetLayoutError
from spm_jax.evaluation import datasets as eval_datasets


def _write(path, text):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    f.write(text)


@pytest.mark.parametrize('reader', [video_layouts.read_got10k, video_layouts.read_lasot,
                                    video_layouts.read_imagenet_vid])
def test_missing_video_folder_names_it_and_the_layout(tmp_path, reader):
  root = str(tmp_path / 'not_there')
  with pytest.raises(DatasetLayoutError, match='Expected layout') as exc:
    reader(root)
  assert str(tmp_path / 'not_there') in str(exc.value)
  assert isinstance(exc.value, FileNotFoundError)


def test_missing_coco_and_benchmark_folders(tmp_path):
  with pytest.raises(DatasetLayoutError, match='instances_train2017.json'):
    coco_layout.read_coco(str(tmp_path / 'coco'))
  for name in ('otb100', 'lasot', 'got10k_val', 'vot2018', 'uav123', 'trackingnet'):
    root = str(tmp_path / name)
    with pytest.raises(FileNotFoundError) as exc:
      eval_datasets.load_dataset(name, root)
    assert root in str(exc.value), (name, str(exc.value))


@pytest.mark.parametrize('line, message', [
    ('1,2,3', 'expected four numbers'),
    ('1,2,three,4', 'expected four numbers'),
    ('1,2,3,4,5', 'expected four numbers'),
    ('1,2,inf,4', 'infinite value'),
    ('1,-inf,3,4', 'infinite value'),
    ('1,2,-3,4', 'negative width or height'),
])
def test_malformed_annotation_line_names_file_and_line(tmp_path, line, message):
  path = str(tmp_path / 'groundtruth.txt')
  _write(path, f'1,2,3,4\n\n5\t6\t7\t8\n{line}\n9,10,11,12\n')
  with pytest.raises(AnnotationError, match=message) as exc:
    video_layouts.read_box_file(path)
  assert f'{path}:4:' in str(exc.value)  # blank lines count: the 4th line of the file


def test_nan_annotation_is_an_absent_target_not_an_error(tmp_path):
  path = str(tmp_path / 'groundtruth.txt')
  _write(path, '1,2,3,4\nnan,nan,nan,nan\nNaN,2,3,4\n')
  boxes, valid = video_layouts.read_box_file(path)
  assert valid.tolist() == [True, False, False]
  assert np.all(np.isfinite(boxes)) and np.all(boxes[1:] == 0)


def test_benchmark_annotation_line_names_file_and_line(tmp_path):
  seq = tmp_path / 'otb' / 'Seq'
  os.makedirs(seq / 'img')
  for k in range(1, 4):
    cv2.imwrite(str(seq / 'img' / f'{k:04d}.jpg'), np.zeros((8, 8, 3), np.uint8))
  _write(str(seq / 'groundtruth_rect.txt'), '1,2,3,4\n1,2,x,4\n1,2,3,4\n')
  dataset = eval_datasets.otb_folder(str(tmp_path / 'otb'))
  with pytest.raises(ValueError) as exc:
    dataset['Seq']  # pylint: disable=pointless-statement
  assert f'{seq / "groundtruth_rect.txt"}:2' in str(exc.value)


def test_coco_nan_or_inf_bbox_names_the_annotation(tmp_path):
  root = tmp_path / 'coco'
  os.makedirs(root / 'val2017')
  data = {'images': [{'id': 1, 'file_name': 'a.jpg'}],
          'categories': [{'id': 1, 'name': 'cat'}],
          'annotations': [{'image_id': 1, 'category_id': 1, 'bbox': [1, 2, 30, 40]},
                          {'image_id': 1, 'category_id': 1, 'bbox': [1, 2, float('nan'), 4]}]}
  path = root / 'annotations' / 'instances_val2017.json'
  _write(str(path), json.dumps(data))  # json writes NaN, Python reads it back
  with pytest.raises(AnnotationError, match=r'annotations\[1\] NaN or infinite') as exc:
    coco_layout.read_coco(str(root), 'val2017')
  assert str(path) in str(exc.value)
  data['annotations'][1]['bbox'] = [1, 2, 3, 4]
  _write(str(path), json.dumps(data))
  assert len(coco_layout.read_coco(str(root), 'val2017')[0].boxes) == 2


def test_vid_non_finite_box_names_the_file(tmp_path):
  xml = tmp_path / 'Annotations' / 'VID' / 'train' / 'snip' / '000000.xml'
  os.makedirs(tmp_path / 'Data' / 'VID' / 'train' / 'snip')
  _write(str(xml), '<annotation><filename>000000</filename><object><trackid>0</trackid>'
         '<name>n01</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>inf</xmax><ymax>9</ymax>'
         '</bndbox><occluded>0</occluded></object></annotation>')
  with pytest.raises(AnnotationError, match='NaN or infinite') as exc:
    video_layouts.read_imagenet_vid(str(tmp_path))
  assert str(xml) in str(exc.value)


def test_undecodable_images_are_logged_skipped_and_counted(tmp_path, caplog):
  good = tmp_path / 'good.jpg'
  cv2.imwrite(str(good), np.zeros((6, 9, 3), np.uint8))
  truncated = tmp_path / 'truncated.jpg'
  truncated.write_bytes(good.read_bytes()[:20])
  empty = tmp_path / 'empty.jpg'
  empty.write_bytes(b'')
  with caplog.at_level(logging.WARNING):
    results = [image_io.read_checked(str(p)) for p in (good, truncated, empty,
                                                       tmp_path / 'missing.jpg')]
  assert results[0][1:] == (6, 9) and results[1:] == [None, None, None]
  logged = ' '.join(r.getMessage() for r in caplog.records)
  for name in ('truncated.jpg', 'empty.jpg', 'missing.jpg'):
    assert name in logged


def test_prepare_summary_counts_skipped_images(tmp_path, capsys):
  """The run's summary line (``python -m spm_jax.data.prepare``) gives the count."""
  root = tmp_path / 'got'
  seq = root / 'train' / 'GOT-10k_Train_000001'
  os.makedirs(seq)
  for t in range(3):
    cv2.imwrite(str(seq / f'{t + 1:08d}.jpg'), np.full((32, 40, 3), 60 * t, np.uint8))
  (seq / '00000002.jpg').write_bytes(b'\xff\xd8 truncated jpeg')
  _write(str(seq / 'groundtruth.txt'), '1,2,10,12\n2,3,10,12\n3,4,10,12\n')
  _write(str(seq / 'meta_info.ini'), 'object_class: ant\n')
  prepare.main(['--dataset', 'spm_tracking_videos/got10k', '--data_dir', str(tmp_path / 'tfds'),
                '--manual_dir', str(root)])
  out = capsys.readouterr().out
  assert '2 examples' in out and 'skipped images: 1' in out
