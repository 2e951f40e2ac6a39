"""Crop geometry and the generalized-training CM labels against hand-computed anchors."""

import ml_collections
import numpy as np

from spm_jax.data import crops, labels, pipeline, sampler
from spm_jax.ops import boxes as ops_boxes
from spm_jax.ops.anchors import generate_anchors

RATIOS = (0.33, 0.5, 1.0, 2.0, 3.0)


def _model_config():
  m = ml_collections.ConfigDict()
  m.template_size, m.search_size, m.context_amount, m.stride = 127, 271, 0.5, 8
  m.anchors = ml_collections.ConfigDict(dict(ratios=RATIOS, scales=(8.0,), base_size=8, offset=63.5))
  return m


def _centroid(mask):
  ys, xs = np.nonzero(mask)
  return xs.mean() + 0.5, ys.mean() + 0.5  # continuous pixel centres


def test_template_and_search_geometry():
  img = np.zeros((300, 400, 3), np.uint8)
  img[60:80, 100:140] = 255  # object x, y, w, h = 100, 60, 40, 20
  box = (100.0, 60.0, 40.0, 20.0)
  s_z = float(ops_boxes.context_side(40, 20, 0.5))
  np.testing.assert_allclose(s_z, np.sqrt((40 + 30) * (20 + 30)))
  tpl, tf = crops.make_crop(img, box, 127, s_z)
  np.testing.assert_allclose(tf.boxes_to_crop([[100, 60, 140, 80]])[0],
                             [63.5 - 20 * 127 / s_z, 63.5 - 10 * 127 / s_z,
                              63.5 + 20 * 127 / s_z, 63.5 + 10 * 127 / s_z], rtol=1e-5)
  np.testing.assert_allclose(_centroid(tpl[..., 0] > 128), (63.5, 63.5), atol=0.3)
  # The search crop keeps the object's size: s_x / 271 = s_z / 127.
  srch, sf = crops.make_crop(img, box, 271, s_z * 271 / 127)
  b = sf.boxes_to_crop([[100, 60, 140, 80]])[0]
  np.testing.assert_allclose([b[2] - b[0], b[3] - b[1]], [40 * 127 / s_z, 20 * 127 / s_z], rtol=1e-5)
  np.testing.assert_allclose(_centroid(srch[..., 0] > 128), (135.5, 135.5), atol=0.3)
  # Padding is the image's channel mean.
  corner, _ = crops.make_crop(img, (0, 0, 10, 10), 271, 200.0)
  assert abs(int(corner[0, 0, 0]) - int(round(img[..., 0].mean()))) <= 1


def test_augmented_crop_matches_its_boxes():
  img = np.zeros((300, 400, 3), np.uint8)
  img[60:80, 100:140] = 255
  rng = np.random.default_rng(0)
  aug = dict(shift=64, scale=0.18, flip=0.5, color=0.0, blur=0.0, gray=0.0)
  for _ in range(6):
    crop, frame = crops.make_crop(img, (100, 60, 40, 20), 271, 150.0, rng, aug)
    b = frame.boxes_to_crop([[100, 60, 140, 80]])[0]
    centre = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    assert max(abs(centre[0] - 135.5), abs(centre[1] - 135.5)) <= 64 + 1e-3
    np.testing.assert_allclose(_centroid(crop[..., 0] > 128), centre, atol=0.5)


def test_scale_draws_linear_and_log():
  """Window sides: ``1 + U(-s, s)`` (pysot) has E[log factor] = -s^2/6 - s^4/20 - ... < 0,
  so objects look larger on average; ``log_scale`` draws the log uniformly, mean 0."""
  s, n = 0.3, 20000
  rng = np.random.default_rng(0)
  lin = np.array([[f.side_x, f.side_y] for f in (crops.crop_frame((50, 50, 10, 10), 271, 100.0, rng,
                                                                  scale=s) for _ in range(n))])
  log = np.array([[f.side_x, f.side_y] for f in (crops.crop_frame(
      (50, 50, 10, 10), 271, 100.0, rng, scale=s, log_scale=True) for _ in range(n))])
  lin, log = np.log(lin / 100.0), np.log(log / 100.0)
  # E[log(1 + u)], u ~ U(-s, s): ((1+s) log(1+s) - (1-s) log(1-s)) / (2 s) - 1.
  want = ((1 + s) * np.log(1 + s) - (1 - s) * np.log(1 - s)) / (2 * s) - 1
  assert abs(want + s * s / 6) < 1e-3 and want < -0.014
  np.testing.assert_allclose(lin.mean(), want, atol=0.002)
  assert lin.min() >= np.log(1 - s) and lin.max() <= np.log(1 + s)
  assert abs(log.mean()) < 0.002
  assert log.min() >= -np.log1p(s) and log.max() <= np.log1p(s) and log.max() > 0.99 * np.log1p(s)
  assert abs(np.corrcoef(log[:, 0], log[:, 1])[0, 1]) < 0.03  # x and y drawn independently


def test_cm_labels_against_ops_boxes():
  anchors = generate_anchors(19, RATIOS)
  xyxy = labels.cxcywh_to_xyxy(anchors)
  # Two objects that coincide with anchors: the centre 64x64 one and a 112x40 one.
  pos = np.stack([xyxy[9, 9, 2], xyxy[3, 12, 0] + np.array([2, 0, 2, 0])])
  other = xyxy[15, 4, 4][None]  # another category: no positives around it
  cls, reg, w = labels.cm_labels(anchors, pos)
  iou = np.asarray(ops_boxes.pairwise_iou(xyxy.reshape(-1, 4), pos)).max(1).reshape(19, 19, 5)
  want = np.where(iou > 0.6, 1, np.where(iou < 0.3, 0, -1))
  np.testing.assert_array_equal(cls, want)
  assert cls[9, 9, 2] == 1 and cls[3, 12, 0] == 1
  np.testing.assert_allclose(reg[9, 9, 2], 0, atol=1e-6)
  ref = np.asarray(ops_boxes.encode_deltas(anchors[3, 12, 0], ops_boxes.xyxy_to_cxcywh(pos[1])))
  np.testing.assert_allclose(reg[3, 12, 0], ref, atol=1e-6)
  np.testing.assert_array_equal(w, (cls == 1).astype(np.float32))
  assert (reg[cls != 1] == 0).all()
  assert cls[15, 4, 4] == 0  # the other-category object is no positive.
  # Ignore boxes: anchors overlapping an invisible same-category object.
  cls2, _, _ = labels.cm_labels(anchors, pos, other)
  assert cls2[15, 4, 4] == -1
  # Subsampling keeps 48 with at most half positive.
  sub, sw = labels.subsample(cls, w, np.random.default_rng(0), 48, 0.5)
  assert (sub == 1).sum() == min((cls == 1).sum(), 24) and (sub != -1).sum() == 48
  assert (sw == (sub == 1)).all()


def test_cm_labels_best_anchor_rule():
  anchors = generate_anchors(19, RATIOS)
  flat = anchors.reshape(-1, 4)
  # A 36x36 object centred on an anchor centre: IoU < 0.6 with every anchor.
  c = anchors[9, 9, 2, :2]
  small = np.array([[c[0] - 18, c[1] - 18, c[0] + 18, c[1] + 18]])
  def iou_loop(a):  # float64 reference, one anchor at a time
    x1, y1, x2, y2 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    iw = max(0.0, min(x2, small[0, 2]) - max(x1, small[0, 0]))
    ih = max(0.0, min(y2, small[0, 3]) - max(y1, small[0, 1]))
    return iw * ih / (a[2] * a[3] + 36.0 * 36.0 - iw * ih)
  ref = np.array([iou_loop(a) for a in flat.astype(np.float64)])
  assert ref.max() < 0.6
  plain, _, _ = labels.cm_labels(anchors, small)
  assert (plain == 1).sum() == 0
  cls, reg, w = labels.cm_labels(anchors, small, best_anchor=True)
  best = np.flatnonzero(ref == ref.max())
  np.testing.assert_array_equal(np.flatnonzero(cls.reshape(-1) == 1), best)
  # Ties: the 64 px square anchors at the centre and its 8 neighbours all hold it.
  assert len(best) == 9 and cls[9, 9, 2] == 1 and cls[8, 10, 2] == 1
  # The regression target shrinks the anchor to the object: log(36 / 64).
  np.testing.assert_allclose(reg[9, 9, 2], [0, 0, np.log(36 / 64), np.log(36 / 64)], atol=1e-6)
  np.testing.assert_allclose(reg[8, 10, 2], [-8 / 64, 8 / 64, np.log(36 / 64), np.log(36 / 64)],
                             atol=1e-6)
  np.testing.assert_array_equal(w, (cls == 1).astype(np.float32))
  # Everything else keeps its IoU label; an object with anchors above 0.6 gains nothing.
  np.testing.assert_array_equal(np.delete(cls.reshape(-1), best),
                                np.delete(plain.reshape(-1), best))
  big = labels.cxcywh_to_xyxy(anchors[9, 9, 2])[None]
  np.testing.assert_array_equal(labels.cm_labels(anchors, big, best_anchor=True)[0],
                                labels.cm_labels(anchors, big)[0])


def _record(track_ids, cats, boxes, visible=None):
  n = len(track_ids)
  return {'track_ids': np.asarray(track_ids, np.int32),
          'categories': np.asarray([c.encode() for c in cats], object),
          'boxes': np.asarray(boxes, np.float32), 'visible': np.ones(n, bool) if visible is None
          else np.asarray(visible, bool), 'video_name': b'v'}


def _data_config(**kw):
  c = pipeline.default_data_config()
  c.cm_num_anchors = 0
  c.gray = 0.0
  for a in (c.template_aug, c.search_aug):
    a.shift, a.scale, a.flip, a.color, a.blur = 0.0, 0.0, 0.0, 0.0, 0.0
  c.update(kw)
  return c


def test_make_pair_same_category_positives():
  model = _model_config()
  anchors = pipeline.model_anchors(model)
  img = np.full((600, 800, 3), 90, np.uint8)
  tmpl = _record([0], ['a'], [[380, 280, 40, 40]])
  # Search: the crop follows track 5 (category a) at (400, 300); track 6 (a) and 7 (b) nearby.
  srch = _record([5, 6, 7], ['a', 'a', 'b'],
                 [[380, 280, 40, 40], [450, 300, 40, 40], [300, 250, 40, 40]])
  spec = sampler.PairSpec(0, sampler.SAME_CATEGORY, 0, 0, 1, 5, 0)
  out = pipeline.make_pair(spec, tmpl, srch, img, img, anchors, _data_config(), model,
                           np.random.default_rng(0))
  # s_z = sqrt(80 * 80) = 80 -> scale 127 / 80 in both crops; search centred on (400, 300).
  k = 127 / 80

  def to_crop(x, y, w, h):
    return np.array([(x - 400) * k + 135.5, (y - 300) * k + 135.5,
                     (x + w - 400) * k + 135.5, (y + h - 300) * k + 135.5])
  a_boxes = np.stack([to_crop(380, 280, 40, 40), to_crop(450, 300, 40, 40)])
  np.testing.assert_allclose(out['category_boxes'][:2], a_boxes, atol=1e-3)
  assert out['category_mask'].tolist() == [True, True] + [False] * 6
  assert not out['has_target'] and (out['target_box'] == 0).all()
  cls_want, _, _ = labels.cm_labels(anchors, a_boxes)
  np.testing.assert_array_equal(out['cls_label'], cls_want)
  assert out['cls_label'][9, 9, 2] == 1  # the centre anchor (63.5 px box) is positive
  b_box = to_crop(300, 250, 40, 40)
  iou_b = labels.iou_matrix(labels.cxcywh_to_xyxy(anchors.reshape(-1, 4)), b_box[None])
  assert (out['cls_label'].reshape(-1)[iou_b[:, 0] > 0.6] == 0).all()  # other category negative
  np.testing.assert_allclose(out['template_box'], [63.5 - 20 * k, 63.5 - 20 * k,
                                                   63.5 + 20 * k, 63.5 + 20 * k], atol=1e-3)
  # Instance-only labels without generalized training: no CM positive in a same-category pair.
  inst = pipeline.make_pair(spec, tmpl, srch, img, img, anchors, _data_config(generalized=False),
                            model, np.random.default_rng(0))
  assert (inst['cls_label'] == 1).sum() == 0
  # Same-instance pair: the instance is the FM target, and still a CM positive.
  spec_si = sampler.PairSpec(0, sampler.SAME_INSTANCE, 0, 5, 1, 5, 0)
  si = pipeline.make_pair(spec_si, srch, srch, img, img, anchors, _data_config(), model,
                          np.random.default_rng(0))
  assert si['has_target']
  np.testing.assert_allclose(si['target_box'], a_boxes[0], atol=1e-3)
  # Different-category pair: every anchor negative.
  spec_dc = sampler.PairSpec(0, sampler.DIFFERENT_CATEGORY, 0, 0, 1, 7, 0)
  tmpl_c = _record([0], ['c'], [[380, 280, 40, 40]])
  dc = pipeline.make_pair(spec_dc, tmpl_c, srch, img, img, anchors, _data_config(), model,
                          np.random.default_rng(0))
  assert (dc['cls_label'] == 0).all() and not dc['has_target'] and not dc['category_mask'].any()
