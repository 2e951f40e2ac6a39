"""The paper config tracks as the authors' inference release does, frame for frame.

The release's per-frame procedure (microsoft/SPM-Tracker, config
``alexnet_c42_otb``: ``SPMTrackerInference`` in spm_tracker/inference.py,
``crop_with_boxes`` in utils/crop.py and its crop-and-resize kernel, the box
helpers in utils/boxes/, the anchors of utils/rpn.py) is restated below in
NumPy float64, from reading that code: crops, anchors, "+1" delta decoding, the
near candidate, the score filter, full NMS, fusion, the cosine window and the
state update. Only the networks are shared with the code under test (they are
checked against the release's layers in tests/test_convert.py), and the
reference takes its template from the centre of the first frame's search-size
crop with its own slicing.

The weights are random, written in the release's state-dict format and loaded
through ``spm_jax.convert.convert_release``; the CM and FM class and box
layers are scaled up so that candidates differ clearly in score. The
comparison is open loop: each frame, both the reference and the jitted step
start from the same previous box, the ground truth of the previous frame of a
procedural video with moving objects and camera, every fourth one moved to a
corner of the frame (a closed loop of random
weights turns float rounding into different trajectories within a few frames).
"""

import jax
import numpy as np
import pytest

from spm_jax import config_file
from spm_jax import convert, models
from spm_jax.data import synthetic
from spm_jax.tracking import MultiTracker, Tracker
from test_convert import random_variables, release_state_dicts

spm_alexnet = config_file.load_module('spm_alexnet')

# The release's alexnet_c42_otb.yaml and its defaults (spm_tracker/config.py).
X_SIZE, Z_SIZE, CONTEXT = 271, 127, 0.5
RATIOS, SCALES, STRIDE = (0.33, 0.5, 1.0, 2.0, 3.0), (8.0,), 8
FM_SCORE_INFLUENCE, FM_BBOX_INFLUENCE, WINDOWS_INFLUENCE = 0.5, 3.0, 0.5
LR, MAX_SCORE_THRESHOLD, SCORE_THRESH_FACTOR = 0.5, 0.2, 0.1
NUM_CANDIDATES, NUM_NEAR_CANDIDATES, NMS_THRESHOLD = 9, 1, 0.5
FM_BBOX_VAR_INV = (5.0, 5.0, 10.0, 10.0)
CLIP = np.log(255.0 / 32.0)
NUM_FRAMES = 52


# ------------------------------------------------------ release in NumPy ---
def anchors_xyxy():
  """[19 * 19 * 5, 4] anchors of ``generate_anchors_on_response_map``, order (y, x, a)."""
  base = np.array([1.0, 1.0, 8.0, 8.0]) - 1 - (8 - 1) / 2.0
  w, h = base[2] - base[0] + 1, base[3] - base[1] + 1
  xc, yc = base[0] + 0.5 * (w - 1), base[1] + 0.5 * (h - 1)
  cell = []
  for r in RATIOS:
    ws = np.round(np.sqrt(w * h / r))
    hs = np.round(ws * r)
    for s in SCALES:
      cell.append([xc - 0.5 * (ws * s - 1), yc - 0.5 * (hs * s - 1),
                   xc + 0.5 * (ws * s - 1), yc + 0.5 * (hs * s - 1)])
  n = (X_SIZE - 87) // 8 + 1 - ((Z_SIZE - 87) // 8 + 1) + 1  # 24 - 6 + 1 = 19
  sx, sy = np.meshgrid(np.arange(n) * STRIDE, np.arange(n) * STRIDE)
  shifts = np.stack([sx.ravel(), sy.ravel(), sx.ravel(), sy.ravel()], axis=1)
  return (np.asarray(cell)[None] + shifts[:, None]).reshape(-1, 4) + Z_SIZE / 2


def bbox_transform(boxes, deltas, weights=(1.0, 1.0, 1.0, 1.0)):
  """``delta_transform.bbox_transform`` (NumPy branch): "+1" widths, dw clipped above."""
  widths = boxes[:, 2] - boxes[:, 0] + 1.0
  heights = boxes[:, 3] - boxes[:, 1] + 1.0
  ctr_x = boxes[:, 0] + 0.5 * widths
  ctr_y = boxes[:, 1] + 0.5 * heights
  dx, dy = deltas[:, 0] / weights[0], deltas[:, 1] / weights[1]
  dw, dh = deltas[:, 2] / weights[2], deltas[:, 3] / weights[3]
  dw = np.minimum(np.where(np.isfinite(dw), dw, CLIP), CLIP)
  dh = np.minimum(np.where(np.isfinite(dh), dh, CLIP), CLIP)
  cx, cy = dx * widths + ctr_x, dy * heights + ctr_y
  pw, ph = np.exp(dw) * widths, np.exp(dh) * heights
  return np.stack([cx - 0.5 * pw, cy - 0.5 * ph, cx + 0.5 * pw, cy + 0.5 * ph], axis=1)


def overlaps_plus_one(boxes, query):
  """Detectron's ``bbox_overlaps`` of [N, 4] boxes with one query box: [N]."""
  out = np.zeros(len(boxes))
  q_area = (query[2] - query[0] + 1) * (query[3] - query[1] + 1)
  for n, b in enumerate(boxes):
    iw = min(b[2], query[2]) - max(b[0], query[0]) + 1
    ih = min(b[3], query[3]) - max(b[1], query[1]) + 1
    if iw > 0 and ih > 0:
      ua = (b[2] - b[0] + 1) * (b[3] - b[1] + 1) + q_area - iw * ih
      out[n] = iw * ih / ua
  return out


def nms(dets, thresh):
  """``cython_nms.nms``: greedy, IoU without "+1", suppresses at IoU >= thresh."""
  x1, y1, x2, y2, scores = dets.T
  areas = (x2 - x1) * (y2 - y1)
  order = np.argsort(-scores, kind='stable')
  suppressed = np.zeros(len(dets), bool)
  for a, i in enumerate(order):
    if suppressed[i]:
      continue
    j = order[a + 1:]
    w = np.maximum(0.0, np.minimum(x2[i], x2[j]) - np.maximum(x1[i], x1[j]))
    h = np.maximum(0.0, np.minimum(y2[i], y2[j]) - np.maximum(y1[i], y1[j]))
    inter = w * h
    suppressed[j[inter / (areas[i] + areas[j] - inter) >= thresh]] = True
  return np.flatnonzero(~suppressed)


def search_region(box):
  """``generate_search_region_boxes`` for one [x1, y1, x2, y2] box: (x_box, scale_x)."""
  cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
  w, h = box[2] - box[0], box[3] - box[1]
  s_z = np.sqrt((w + CONTEXT * (w + h)) * (h + CONTEXT * (w + h)))
  scale_z = Z_SIZE / s_z
  s_x = s_z + 2 * ((X_SIZE - Z_SIZE) / 2 / scale_z)
  return np.array([cx - s_x / 2, cy - s_x / 2, cx + s_x / 2, cy + s_x / 2]), X_SIZE / s_x


def crop_with_box(frame, box, out):
  """``crop_with_boxes``: minus the channel mean, crop-and-resize (outside: 0), plus the mean."""
  img = frame.astype(np.float64)
  mean = img.mean(axis=(0, 1))
  img = img - mean
  h, w = img.shape[:2]
  crop = np.zeros((out, out, 3))
  in_y = box[1] + np.arange(out) * (box[3] - box[1]) / (out - 1)
  in_x = box[0] + np.arange(out) * (box[2] - box[0]) / (out - 1)
  for j, y in enumerate(in_y):
    if y < 0 or y > h - 1:
      continue
    top, bottom, y_lerp = int(np.floor(y)), int(np.ceil(y)), y - np.floor(y)
    ok = (in_x >= 0) & (in_x <= w - 1)
    xs = in_x[ok]
    left, right = np.floor(xs).astype(int), np.ceil(xs).astype(int)
    x_lerp = (xs - left)[:, None]
    t = img[top, left] + (img[top, right] - img[top, left]) * x_lerp
    b = img[bottom, left] + (img[bottom, right] - img[bottom, left]) * x_lerp
    crop[j, ok] = t + (b - t) * y_lerp
  return crop + mean


class ReleaseInference:
  """``SPMTrackerInference`` with the networks of ``model`` and ``variables``."""

  def __init__(self, model, variables):
    def template(module, crop, z_box):
      feats = module.embed(crop)
      c5 = feats['conv5']
      top = (c5.shape[1] - 6) // 2  # center_crop_tensor to the 127 crop's 6x6
      return {'kernels': module.cm.template(c5[:, top:top + 6, top:top + 6]),
              'regions': module.fm.regions(feats, z_box[:, None])}

    apply = lambda method: jax.jit(lambda *a: model.apply(variables, *a, method=method))
    self._template = apply(template)
    self._search = apply(model.search)
    self._refine = apply(model.refine)
    self.anchors = anchors_xyxy()

  def init_tracker(self, frame, box):
    x_box, scale_x = search_region(box)
    crop = crop_with_box(frame, x_box, X_SIZE)
    z_box = (np.asarray(box) - np.tile(x_box[:2], 2)) * scale_x  # image_to_search_region
    self.template = self._template(crop[None].astype(np.float32),
                                   z_box[None].astype(np.float32))

  def predict_next_frame(self, frame, box):
    """Returns (box [x1, y1, x2, y2], best fused score)."""
    x_box, scale_x = search_region(box)
    crop = crop_with_box(frame, x_box, X_SIZE)
    feats, logits, deltas = self._search(crop[None].astype(np.float32), self.template)
    logits = np.asarray(logits, np.float64).reshape(-1, 2)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    score = e[:, 1] / e.sum(axis=1)
    on_x = bbox_transform(self.anchors, np.asarray(deltas, np.float64).reshape(-1, 4))
    on_img = on_x / scale_x + np.tile(x_box[:2], 2)
    det = np.hstack([on_img, score[:, None], on_x])
    proposed = self.proposals(det, np.asarray(box, np.float64))

    rois = np.zeros((NUM_CANDIDATES, 4), np.float32)  # padded: one compilation
    rois[:len(proposed)] = proposed[:, 5:9]
    fm_logits, fm_deltas = self._refine(feats, rois[None], self.template)
    fm_logits = np.asarray(fm_logits, np.float64)[0, :len(proposed)]
    e = np.exp(fm_logits - fm_logits.max(axis=1, keepdims=True))
    fm_scores = e[:, 1] / e.sum(axis=1)
    fm_boxes = bbox_transform(proposed[:, 5:9],
                              np.asarray(fm_deltas, np.float64)[0, :len(proposed)],
                              FM_BBOX_VAR_INV)
    centers = (proposed[:, 5:7] + proposed[:, 7:9]) / 2 / (X_SIZE - 1)
    win_2d = 0.5 - 0.5 * np.cos(2 * np.pi * np.clip(centers, 0.0, 1.0))
    win = win_2d[:, 0] * win_2d[:, 1]  # at the CM boxes, before the fusion below

    fm_img = fm_boxes / scale_x + np.tile(x_box[:2], 2)
    weight = (proposed[:, 4] / np.clip(proposed[:, 4] + fm_scores * FM_BBOX_INFLUENCE,
                                       1e-5, 99999.0))[:, None]
    boxes = proposed[:, :4] * weight + fm_img * (1 - weight)
    pred = proposed[:, 4] * (1 - FM_SCORE_INFLUENCE) + fm_scores * FM_SCORE_INFLUENCE
    final = pred * (1 - WINDOWS_INFLUENCE) + win * WINDOWS_INFLUENCE
    best = int(np.argmax(final))
    self.last = {'final': final, 'pred': pred, 'proposed': proposed}
    if pred[best] < MAX_SCORE_THRESHOLD:
      return np.asarray(box, np.float64), pred[best]
    return self.linear_inter(boxes[best], box, pred[best] * LR, *frame.shape[:2]), pred[best]

  @staticmethod
  def proposals(det, box):
    """``generate_proposal_boxes``: [<= 9, 9] rows of ``det``, the near box last."""
    overlaps = overlaps_plus_one(det[:, :4], box)
    near = overlaps > 0.80
    near_inds = np.flatnonzero(near)
    if len(near_inds) > NUM_NEAR_CANDIDATES:
      by_score = near_inds[np.argsort(-det[near_inds, 4], kind='stable')]
      near_boxes = det[by_score[:NUM_NEAR_CANDIDATES]]
      others = det[np.concatenate([by_score[NUM_NEAR_CANDIDATES:], np.flatnonzero(~near)])]
    else:
      # Highest IoU first; among equal IoUs the lowest index (the release's
      # order there is whatever NumPy's unstable argsort gives).
      by_iou = np.argsort(-overlaps, kind='stable')
      near_boxes = det[by_iou[:NUM_NEAR_CANDIDATES]]
      others = det[by_iou[NUM_NEAR_CANDIDATES:]]
    others = others[others[:, 4] >= SCORE_THRESH_FACTOR * others[:, 4].max()]
    if len(others) > 1:
      others = others[nms(others[:, :5], NMS_THRESHOLD)]
      others = others[np.argsort(-others[:, 4], kind='stable')]
      others = others[:NUM_CANDIDATES - NUM_NEAR_CANDIDATES]
    return np.vstack([others, near_boxes])

  @staticmethod
  def linear_inter(det_box, box, lr, im_height, im_width):
    w = (det_box[2] - det_box[0]) * lr + (box[2] - box[0]) * (1 - lr)
    h = (det_box[3] - det_box[1]) * lr + (box[3] - box[1]) * (1 - lr)
    w, h = max(10, w), max(10, h)
    cx = max(0, min((det_box[0] + det_box[2]) / 2, im_width - w / 2))
    cy = max(0, min((det_box[1] + det_box[3]) / 2, im_height - h / 2))
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


# ------------------------------------------------------------------ tests ---
def release_model(config):
  """Random release-format state dicts, converted.

  The class and box layers are scaled down from the random draw's saturated
  outputs: CM and FM scores spread over about 0.5 .. 0.9 and deltas of about
  0.15, so the candidates differ and the boxes stay near their anchors.
  """
  variables = random_variables(config, seed=3)
  p = variables['params']
  p['cm']['z_cls_conv']['kernel'] *= 0.03
  p['cm']['z_box_conv']['kernel'] *= 0.003
  p['fm']['cls']['kernel'] *= 0.01
  p['fm']['box']['kernel'] *= 0.1
  cm, fm = release_state_dicts(variables, config)
  return convert.convert_release(cm, fm, config)


def xyxy_to_xywh(b):
  return np.array([b[0], b[1], b[2] - b[0], b[3] - b[1]])


def iou_xyxy(a, b):
  iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
  ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
  inter = iw * ih
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.slow
def test_paper_config_matches_the_release_open_loop():
  config, variables = release_model(spm_alexnet.get_config('runlocal'))
  seq = synthetic.generate_sequence(8, num_frames=NUM_FRAMES)
  frames = seq.frames
  starts = seq.boxes[:, 0].astype(np.float64)  # [T, 4] x, y, w, h of the target
  # Every fourth start box moved to the bottom-right corner, a quarter of it
  # outside the frame: the centre clamp [0, W - w / 2] acts there.
  h_img, w_img = frames.shape[1:3]
  corner = np.array([w_img, h_img]) - 0.25 * starts[2::4, 2:] - starts[2::4, :2]
  starts[2::4, :2] += corner
  starts[:, 2:] += starts[:, :2]  # x1, y1, x2, y2
  box = starts[0]

  reference = ReleaseInference(models.build_model(config), variables)
  reference.init_tracker(frames[0], box)
  tracker = Tracker(config, variables)
  tracker.init(frames[0], xyxy_to_xywh(box))
  multi = MultiTracker(config, variables, capacity=2)

  ious, score_err, gaps, moved = [], [], [], 0
  for t in range(1, NUM_FRAMES):
    box = starts[t - 1]
    want, want_score = reference.predict_next_frame(frames[t], box)
    final = np.sort(reference.last['final'])
    gaps.append(final[-1] - final[-2])
    tracker.set_box(xyxy_to_xywh(box))
    got, got_score = tracker.update(frames[t])
    got = np.array([got[0], got[1], got[0] + got[2], got[1] + got[3]])
    ious.append(iou_xyxy(want, got))
    score_err.append(abs(want_score - got_score))
    moved += int(iou_xyxy(want, box) < 0.95)
    if t == 1:  # MultiTracker: the same procedure from the same template
      multi.add(1, frames[0], xyxy_to_xywh(starts[0]))
      multi_box, multi_score = multi.update({1: frames[1]})[1]
      np.testing.assert_allclose(multi_box, xyxy_to_xywh(got), atol=1e-3)
      assert abs(multi_score - got_score) < 1e-5
  ious, score_err = np.array(ious), np.array(score_err)
  assert moved >= 10, 'the reference should move the box on many frames'
  assert min(gaps) > 1e-4, 'the best candidate should win clearly on every frame'
  assert ious.min() >= 0.99, (np.argmin(ious) + 1, ious.min())
  assert score_err.max() < 1e-4, (np.argmax(score_err) + 1, score_err.max())
