"""Loader tests on tiny fixture folders in each benchmark's exact layout."""

import os

import cv2
import numpy as np
import pytest

from spm_jax.evaluation import datasets
from spm_jax.evaluation import tables

_JPEG = None


def _jpeg_bytes():
  global _JPEG
  if _JPEG is None:
    ok, buf = cv2.imencode('.jpg', np.full((8, 8, 3), 128, np.uint8))
    assert ok
    _JPEG = buf.tobytes()
  return _JPEG


def _images(folder, numbers, pattern='{:04d}.jpg'):
  """Writes 8x8 JPEGs (encoded once with cv2) named by ``pattern``."""
  os.makedirs(folder, exist_ok=True)
  for k in numbers:
    with open(os.path.join(folder, pattern.format(k)), 'wb') as f:
      f.write(_jpeg_bytes())


def _boxes(n, offset=0.0):
  return np.c_[np.arange(n) + 1.0 + offset, np.arange(n) + 2.0,
               np.full(n, 3.0), np.full(n, 4.0)]


def _write(path, rows, sep=','):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    for r in rows:
      f.write(sep.join(f'{v:g}' for v in r) + '\n')


# ---------------------------------------------------------------------------
# OTB.
# ---------------------------------------------------------------------------
@pytest.fixture
def otb_root(tmp_path):
  root = tmp_path / 'OTB100'
  # David: images 0001..0770, annotation only for frames 300..770.
  _images(root / 'David' / 'img', range(1, 771))
  _write(root / 'David' / 'groundtruth_rect.txt', _boxes(471), sep=',')
  # Jogging: two targets, tab- and space-separated files.
  _images(root / 'Jogging' / 'img', range(1, 6))
  _write(root / 'Jogging' / 'groundtruth_rect.1.txt', _boxes(5), sep='\t')
  _write(root / 'Jogging' / 'groundtruth_rect.2.txt', _boxes(5, 10), sep=' ')
  # Board: 5-digit file names.
  _images(root / 'Board' / 'img', range(1, 4), '{:05d}.jpg')
  _write(root / 'Board' / 'groundtruth_rect.txt', _boxes(3))
  # BlurCar1: first image is 0247.jpg; mixed separators as in the real file.
  _images(root / 'BlurCar1' / 'img', range(247, 989))
  rows = _boxes(742)
  with open(root / 'BlurCar1' / 'groundtruth_rect.txt', 'w') as f:
    for i, r in enumerate(rows):
      sep = ' ' if i == 495 else '\t'
      f.write(sep.join(f'{v:g}' for v in r) + '\t\n')
  # Human4: empty first annotation file, the second is used.
  _images(root / 'Human4' / 'img', range(1, 4))
  (root / 'Human4' / 'groundtruth_rect.1.txt').write_text('')
  _write(root / 'Human4' / 'groundtruth_rect.2.txt', _boxes(3))
  # Tiger1: OTB-2015 starts 5 frames in.
  _images(root / 'Tiger1' / 'img', range(1, 11))
  _write(root / 'Tiger1' / 'groundtruth_rect.txt', _boxes(10))
  return root


def test_otb_special_cases(otb_root):
  names = ['David', 'Jogging.1', 'Jogging.2', 'Board', 'BlurCar1', 'Human4',
           'Tiger1']
  ds = datasets.otb(otb_root, 'otb100', names=names)
  assert len(ds) == 7 and ds.result_format == 'otb'
  david = ds['David']
  assert len(david) == 471 and david.gt.shape == (471, 4)
  assert os.path.basename(david.frames[0]) == '0300.jpg'
  assert os.path.basename(david.frames[-1]) == '0770.jpg'
  np.testing.assert_allclose(david.init_box, [1, 2, 3, 4])
  j1, j2 = ds['Jogging.1'], ds['Jogging.2']
  assert j1.frames == j2.frames
  np.testing.assert_allclose(j2.gt[:, 0] - j1.gt[:, 0], 10)
  assert os.path.basename(ds['Board'].frames[0]) == '00001.jpg'
  car = ds['BlurCar1']
  assert os.path.basename(car.frames[0]) == '0247.jpg' and len(car) == 742
  np.testing.assert_allclose(car.gt[495], [496, 497, 3, 4])
  assert len(ds['Human4']) == 3
  tiger = ds['Tiger1']
  assert len(tiger) == 5 and os.path.basename(tiger.frames[0]) == '0006.jpg'
  np.testing.assert_allclose(tiger.init_box, [6, 7, 3, 4])
  assert david.pixel_origin == 1.0  # MATLAB numbers: the top-left pixel is (1, 1).
  np.testing.assert_allclose(david.to_image(david.init_box), [0, 1, 3, 4])
  np.testing.assert_allclose(david.from_image([[0, 1, 3, 4]]), [[1, 2, 3, 4]])
  frame = david.frame(0)
  assert frame.shape == (8, 8, 3) and frame.dtype == np.uint8


def test_otb2013_keeps_tiger1_whole_and_has_attributes(otb_root):
  ds = datasets.otb(otb_root, 'otb2013', names=['Tiger1', 'David'])
  assert len(ds['Tiger1']) == 10
  assert ds['David'].attributes['IV'] is True
  assert 'OCC' in ds.attributes['Tiger1']


def test_otb_tables():
  assert len(tables.OTB2013) == 51
  assert len(tables.OTB100) == 100 and len(set(tables.OTB100)) == 100
  assert {'Jogging.1', 'Jogging.2', 'Skating2.1', 'Skating2.2'} <= set(
      tables.OTB100)
  assert set(tables.OTB2013_ATTRIBUTES) == set(tables.OTB2013)
  assert len(tables.LASOT_TEST) == 280 and len(set(tables.LASOT_TEST)) == 280
  assert len(tables.UAV123) == 123 and len(tables.UAV20L) == 20


def test_otb_missing_root_and_sequence(tmp_path, otb_root):
  with pytest.raises(datasets.DatasetNotFoundError) as e:
    datasets.otb(tmp_path / 'nope')
  assert str(tmp_path / 'nope') in str(e.value)
  assert 'groundtruth_rect.txt' in str(e.value)  # The expected layout.
  with pytest.raises(datasets.DatasetNotFoundError, match='Basketball'):
    datasets.otb(otb_root, 'otb100')  # Most OTB-100 folders are missing.


def test_malformed_line_names_file_and_line(otb_root):
  path = otb_root / 'Board' / 'groundtruth_rect.txt'
  path.write_text('1,2,3,4\n1,2,x,4\n5,6,7,8\n')
  ds = datasets.otb(otb_root, 'otb100', names=['Board'])
  with pytest.raises(ValueError, match=r'groundtruth_rect\.txt:2'):
    ds['Board']
  path.write_text('1,2,3,4\n1,2,3\n5,6,7,8\n')
  with pytest.raises(ValueError, match=r'groundtruth_rect\.txt:2: expected 4'):
    ds['Board']


def test_frame_count_mismatch(otb_root):
  _write(otb_root / 'Board' / 'groundtruth_rect.txt', _boxes(5))
  ds = datasets.otb(otb_root, 'otb100', names=['Board'])
  with pytest.raises(ValueError, match='3 frames but 5 boxes'):
    ds['Board']


def test_otb_folder_any_layout(tmp_path):
  root = tmp_path / 'mine'
  _images(root / 'cup' / 'img', range(1, 4))
  _write(root / 'cup' / 'groundtruth_rect.txt', _boxes(3), sep=' ')
  _images(root / 'two' / 'img', range(1, 3))
  _write(root / 'two' / 'groundtruth_rect.1.txt', _boxes(2))
  _write(root / 'two' / 'groundtruth_rect.2.txt', _boxes(2))
  (root / 'notes').mkdir()
  ds = datasets.otb_folder(root)
  assert ds.names == ['cup', 'two.1', 'two.2']
  assert len(ds['cup']) == 3 and ds['two.2'].gt.shape == (2, 4)
  assert [s.name for s in ds] == ds.names
  assert all(s.pixel_origin == 1.0 for s in ds)  # OTB layout, OTB numbers.
  with pytest.raises(datasets.DatasetNotFoundError, match='img'):
    datasets.otb_folder(tmp_path / 'mine' / 'notes')


# ---------------------------------------------------------------------------
# VOT.
# ---------------------------------------------------------------------------
def test_vot2018_polygons_to_boxes(tmp_path):
  root = tmp_path / 'VOT2018'
  root.mkdir()
  (root / 'list.txt').write_text('ants1\n')
  _images(root / 'ants1' / 'color', range(1, 4), '{:08d}.jpg')
  poly = [[10, 0, 20, 10, 10, 20, 0, 10]] * 3   # a diamond
  _write(root / 'ants1' / 'groundtruth.txt', poly)
  (root / 'ants1' / 'occlusion.tag').write_text('0\n1\n')
  seq = datasets.vot(root, 2018)['ants1']
  assert datasets.vot(root, 2018).year == 2018
  np.testing.assert_allclose(seq.gt[0], [0, 0, 20, 20])   # enclosing box
  assert seq.polygons.shape == (3, 8)
  assert seq.attributes['occlusion'].tolist() == [False, True, False]
  assert seq.pixel_origin == 0.0
  np.testing.assert_allclose(seq.to_image(seq.gt[0]), seq.gt[0])
  area = datasets.polygon_to_box(np.array(poly[:1], float), mode='area')
  # Diamond area 200 -> a 10*sqrt(2) square centred at (10, 10).
  np.testing.assert_allclose(area[0, 2] * area[0, 3], 200)
  np.testing.assert_allclose(area[0, :2] + area[0, 2:] / 2, [10, 10])


def test_vot2016_flat_layout_and_rectangles(tmp_path):
  root = tmp_path / 'vot2016'
  root.mkdir()
  (root / 'list.txt').write_text('bag\n')
  _images(root / 'bag', range(1, 3), '{:08d}.jpg')
  _write(root / 'bag' / 'groundtruth.txt', [[1, 2, 3, 4], [1, 2, 3, 4]])
  (root / 'bag' / 'camera_motion.label').write_text('1\n1\n')
  ds = datasets.load_dataset('vot2016', root)
  seq = ds['bag']
  np.testing.assert_allclose(seq.gt, [[1, 2, 3, 4]] * 2)
  np.testing.assert_allclose(seq.polygons[0], [1, 2, 4, 2, 4, 6, 1, 6])
  assert seq.attributes['camera_motion'].all()


def test_vot_missing(tmp_path):
  (tmp_path / 'v').mkdir()
  with pytest.raises(datasets.DatasetNotFoundError, match='list.txt'):
    datasets.vot(tmp_path / 'v', 2017)


# ---------------------------------------------------------------------------
# LaSOT, GOT-10k, TrackingNet, UAV123.
# ---------------------------------------------------------------------------
def test_lasot_layout_and_nan(tmp_path):
  root = tmp_path / 'LaSOTBenchmark'
  d = root / 'airplane' / 'airplane-1'
  _images(d / 'img', range(1, 5), '{:08d}.jpg')
  gt = _boxes(4)
  gt[2] = np.nan
  with open(d / 'groundtruth.txt', 'w') as f:
    for r in gt:
      f.write(','.join('NaN' if np.isnan(v) else f'{v:g}' for v in r) + '\n')
  (d / 'full_occlusion.txt').write_text('0,0,1,0')
  (d / 'out_of_view.txt').write_text('0,0,0,1')
  ds = datasets.lasot(root, names=['airplane-1'])
  seq = ds['airplane-1']
  assert np.isnan(seq.gt[2]).all() and not np.isnan(seq.gt[3]).any()
  assert seq.attributes['full_occlusion'].tolist() == [False, False, True, False]
  assert seq.pixel_origin == 1.0
  with pytest.raises(datasets.DatasetNotFoundError, match='279 of 280'):
    datasets.lasot(root)


def test_got10k_val_and_test(tmp_path):
  root = tmp_path / 'GOT-10k'
  for split, n_gt in (('val', 4), ('test', 1)):
    name = f'GOT-10k_{split.capitalize()}_000001'
    (root / split).mkdir(parents=True)
    (root / split / 'list.txt').write_text(name + '\n')
    _images(root / split / name, range(1, 5), '{:08d}.jpg')
    _write(root / split / name / 'groundtruth.txt', _boxes(n_gt))
  val = datasets.got10k(root, 'val')
  assert val.result_format == 'got10k'
  assert not np.isnan(val[0].gt).any()
  test = datasets.load_dataset('got10k_test', root)
  seq = test[0]
  assert seq.gt.shape == (4, 4) and np.isnan(seq.gt[1:]).all()
  np.testing.assert_allclose(seq.init_box, [1, 2, 3, 4])
  assert seq.pixel_origin == 0.0 and val[0].pixel_origin == 0.0
  np.testing.assert_allclose(seq.to_image(seq.init_box), [1, 2, 3, 4])


def test_trackingnet_natural_order(tmp_path):
  root = tmp_path / 'TrackingNet'
  _images(root / 'TEST' / 'frames' / 'abc_1', range(0, 12), '{}.jpg')
  _write(root / 'TEST' / 'anno' / 'abc_1.txt', _boxes(1))
  seq = datasets.trackingnet(root)['abc_1']
  assert [os.path.basename(f) for f in seq.frames[8:11]] == [
      '8.jpg', '9.jpg', '10.jpg']
  assert len(seq) == 12 and np.isnan(seq.gt[1:]).all()
  assert seq.pixel_origin == 0.0


def test_uav123_segments(tmp_path):
  root = tmp_path / 'UAV123'
  _images(root / 'data_seq' / 'UAV123' / 'bird1', range(1, 1478), '{:06d}.jpg')
  gt = _boxes(703)
  gt[5] = np.nan
  (root / 'anno' / 'UAV123').mkdir(parents=True)
  with open(root / 'anno' / 'UAV123' / 'bird1_2.txt', 'w') as f:
    for r in gt:
      f.write(','.join('NaN' if np.isnan(v) else f'{v:g}' for v in r) + '\n')
  ds = datasets.uav123(root)
  assert len(ds) == 123
  seq = ds['bird1_2']
  assert len(seq) == 703 and os.path.basename(seq.frames[0]) == '000775.jpg'
  assert np.isnan(seq.gt[5]).all()
  assert seq.pixel_origin == 1.0
  with pytest.raises(datasets.DatasetNotFoundError, match='anno'):
    ds['bike1']


def test_unknown_dataset_name(tmp_path):
  with pytest.raises(ValueError, match='unknown dataset'):
    datasets.load_dataset('imagenet', tmp_path)
