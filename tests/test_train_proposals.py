"""FM training samples: counts, masks, labels against hand-computed IoUs."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from spm_jax.ops import anchors as anchor_ops
from spm_jax.train import proposals


def _np_iou(a, b):
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0)
  ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0)
  inter = iw * ih
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _fm_config(**kw):
  c = ml_collections.ConfigDict(dict(
      pre_nms_top_n=128, post_nms_top_n=64, nms_iou=0.75, num_samples=48, positive_fraction=0.5,
      pos_iou=0.5, neg_iou=0.5, num_jitter=24, jitter=0.1, min_size=4.0, fill_negatives=True))
  c.update(kw)
  return c


def test_labels_match_hand_computed_iou():
  target = np.array([100.0, 100.0, 160.0, 140.0])
  boxes = np.array([
      [100, 100, 160, 140],  # IoU 1
      [110, 100, 170, 140],  # 50 x 40 / (2 * 2400 - 2000) = 2000 / 2800 = 0.714
      [130, 100, 190, 140],  # 30 x 40 = 1200 / 3600 = 0.333
      [100, 100, 140, 140],  # 1600 / 2400 = 0.667
      [100, 100, 130, 140],  # 1200 / 2400 = 0.5 exactly: neither
      [0, 0, 20, 20],  # 0
  ], np.float32)
  valid = np.array([True, True, True, True, True, False])
  pos, neg, iou = proposals.label_boxes(boxes, valid, target, True)
  want = np.array([_np_iou(b, target) for b in boxes])
  np.testing.assert_allclose(iou, want, rtol=1e-6)
  np.testing.assert_array_equal(pos, [True, True, False, True, False, False])
  np.testing.assert_array_equal(neg, [False, False, True, False, False, False])
  # Without a target (same-category / different-category pair): negatives only.
  pos, neg, _ = proposals.label_boxes(boxes, valid, target, False)
  assert not np.any(pos)
  np.testing.assert_array_equal(neg, valid)


def test_choose_counts_and_ratio():
  m = 100
  positive = np.zeros(m, bool)
  positive[:40] = True
  negative = ~positive
  preferred = np.ones(m, bool)
  idx, label, mask = proposals.choose(jax.random.PRNGKey(0), positive, negative, preferred,
                                      num_samples=48, positive_fraction=0.5)
  idx, label, mask = map(np.asarray, (idx, label, mask))
  assert mask.all()
  assert label.sum() == 24 and (label == 0).sum() == 24
  assert positive[idx[label == 1]].all() and negative[idx[label == 0]].all()
  assert len(set(idx.tolist())) == 48  # no box drawn twice


def test_choose_too_few_positives_fills_or_masks():
  m = 60
  positive = np.zeros(m, bool)
  positive[:5] = True
  negative = np.zeros(m, bool)
  negative[5:] = True
  key = jax.random.PRNGKey(1)
  idx, label, mask = proposals.choose(key, positive, negative, np.ones(m, bool), num_samples=48,
                                      positive_fraction=0.5, fill_negatives=True)
  assert np.asarray(mask).all() and int(label.sum()) == 5
  np.testing.assert_array_equal(np.asarray(label)[:5], 1)  # positives come first
  idx, label, mask = proposals.choose(key, positive, negative, np.ones(m, bool), num_samples=48,
                                      positive_fraction=0.5, fill_negatives=False)
  assert int(label.sum()) == 5 and int(np.asarray(mask).sum()) == 5 + 24
  # Too few negatives as well: empty slots are masked, never a repeated box.
  negative[20:] = False
  idx, label, mask = proposals.choose(key, positive, negative, np.ones(m, bool), num_samples=48,
                                      positive_fraction=0.5)
  idx, mask = np.asarray(idx), np.asarray(mask)
  assert mask.sum() == 5 + 15
  assert len(set(idx[mask].tolist())) == 20


def test_choose_prefers_cm_candidates():
  m = 40
  positive = np.ones(m, bool)
  preferred = np.arange(m) < 10
  idx, label, mask = proposals.choose(jax.random.PRNGKey(2), positive, ~positive, preferred,
                                      num_samples=16, positive_fraction=0.5)
  assert np.asarray(mask)[:8].all()
  assert preferred[np.asarray(idx)[:8]].all()  # 8 positive slots all from the preferred ones


def test_choose_draws_preferred_negatives_first():
  m = 60
  positive = np.arange(m) < 4
  negative = ~positive
  hard = negative & (np.arange(m) % 7 == 0)  # 8 hard negatives spread over the pool
  for seed in range(5):
    idx, label, mask = map(np.asarray, proposals.choose(
        jax.random.PRNGKey(seed), positive, negative, positive, num_samples=16,
        positive_fraction=0.5, preferred_negative=hard))
    chosen_neg = set(idx[mask & (label == 0)].tolist())
    assert len(chosen_neg) == 12  # 4 positives, negatives fill the other 12 slots
    assert set(np.flatnonzero(hard).tolist()) <= chosen_neg


@pytest.fixture(scope='module')
def anchors():
  return anchor_ops.generate_anchors(7, (0.33, 0.5, 1.0, 2.0, 3.0)).reshape(-1, 4)


def _cm_outputs(rng, b=2, s=7, a=5):
  return (rng.normal(size=(b, s, s, a, 2)).astype(np.float32),
          0.1 * rng.normal(size=(b, s, s, a, 4)).astype(np.float32))


def test_sample_batch_shapes_counts_and_targets(anchors):
  rng = np.random.default_rng(0)
  logits, deltas = _cm_outputs(rng)
  target = np.array([[60.0, 70.0, 120.0, 110.0], [0, 0, 0, 0]], np.float32)
  has = np.array([True, False])
  keys = jax.random.split(jax.random.PRNGKey(0), 2)
  cfg = _fm_config(pre_nms_top_n=64, post_nms_top_n=56)
  weights = (5.0, 5.0, 10.0, 10.0)
  fn = jax.jit(lambda *a: proposals.sample_batch(*a, anchors=jnp.asarray(anchors), crop_size=175,
                                                 delta_weights=weights, config=cfg))
  out = jax.tree_util.tree_map(np.asarray, fn(keys, logits, deltas, target, has))
  assert out['boxes'].shape == (2, 48, 4) and out['labels'].shape == (2, 48)
  # Same-instance pair: 24 positives (jittered instance boxes fill in) and 24 negatives.
  assert out['mask'][0].all() and out['labels'][0].sum() == 24
  # Labels agree with the IoUs recomputed here.
  for j in range(48):
    iou = _np_iou(out['boxes'][0, j], target[0])
    np.testing.assert_allclose(out['iou'][0, j], iou, rtol=1e-5, atol=1e-6)
    assert (iou > 0.5) == bool(out['labels'][0, j])
  # Regression targets decode back to the instance box.
  from spm_jax.ops import boxes as box_ops  # pylint: disable=import-outside-toplevel
  pos = out['labels'][0] == 1
  dec = box_ops.decode_deltas(box_ops.xyxy_to_cxcywh(out['boxes'][0, pos]),
                              out['reg_target'][0, pos], weights)
  np.testing.assert_allclose(box_ops.cxcywh_to_xyxy(dec), np.tile(target[0], (pos.sum(), 1)),
                             atol=1e-3)
  # Pair without the instance: negatives only, 48 of them (fill_negatives), no box target.
  assert out['labels'][1].sum() == 0 and out['mask'][1].sum() == 48
  assert not out['from_cm'][1].sum() < 48  # all from the CM candidates
  assert np.all(out['reg_target'][1] == 0)


def test_sampling_is_deterministic_per_key(anchors):
  rng = np.random.default_rng(1)
  logits, deltas = _cm_outputs(rng, b=1)
  target = np.array([[60.0, 70.0, 120.0, 110.0]], np.float32)
  cfg = _fm_config(pre_nms_top_n=64, post_nms_top_n=56)
  run = jax.jit(lambda k: proposals.sample_batch(k, logits, deltas, target, np.array([True]),
                                                 anchors=jnp.asarray(anchors), crop_size=175,
                                                 delta_weights=(5.0, 5.0, 10.0, 10.0), config=cfg))
  a = run(jax.random.split(jax.random.PRNGKey(5), 1))
  b = run(jax.random.split(jax.random.PRNGKey(5), 1))
  c = run(jax.random.split(jax.random.PRNGKey(6), 1))
  np.testing.assert_array_equal(a['boxes'], b['boxes'])
  assert not np.array_equal(a['boxes'], c['boxes'])


def test_candidate_pool_drops_small_boxes_and_keeps_static_shape():
  boxes = np.array([[0, 0, 50, 50], [1, 1, 51, 51], [100, 100, 102, 150], [60, 60, 90, 90]],
                   np.float32)
  scores = np.array([0.9, 0.8, 0.99, 0.5], np.float32)
  cand, ok = proposals.candidate_pool(scores, boxes, pre_nms_top_n=4, post_nms_top_n=4,
                                      nms_iou=0.75, min_size=4.0)
  # Box 2 is 2 px wide (dropped), box 1 overlaps box 0 at IoU 0.92 (suppressed).
  np.testing.assert_array_equal(np.asarray(ok), [True, True, False, False])
  np.testing.assert_allclose(np.asarray(cand)[:2], boxes[[0, 3]])


def test_hard_negatives_are_the_best_scoring_negative_candidates(anchors):
  rng = np.random.default_rng(3)
  logits, deltas = _cm_outputs(rng, b=1)
  target = np.array([60.0, 70.0, 120.0, 110.0], np.float32)
  cfg = _fm_config(pre_nms_top_n=64, post_nms_top_n=56, num_samples=16, hard_negatives=5)
  kw = dict(anchors=jnp.asarray(anchors), crop_size=175, delta_weights=(5.0, 5.0, 10.0, 10.0))
  # The candidates, best first, and their labels recomputed here.
  scores, boxes = proposals.decode_cm_boxes(logits[0], deltas[0], kw['anchors'], 175)
  cand, ok = map(np.asarray, proposals.candidate_pool(
      scores, boxes, pre_nms_top_n=64, post_nms_top_n=56, nms_iou=0.75, min_size=4.0))
  neg = [tuple(b) for b, v in zip(cand, ok) if v and _np_iou(b, target) < 0.5]
  assert len(neg) > 8 + 5

  def chosen_negatives(seed):
    out = jax.tree_util.tree_map(np.asarray, proposals.sample_pair(
        jax.random.PRNGKey(seed), logits[0], deltas[0], target, True, config=cfg, **kw))
    return {tuple(b) for b, l, m in zip(out['boxes'], out['labels'], out['mask']) if m and not l}

  for seed in range(3):
    chosen = chosen_negatives(seed)
    assert len(chosen) == 8 and set(neg[:5]) <= chosen
  # Without them the five best negatives are not always all drawn.
  cfg.hard_negatives = 0
  assert not all(set(neg[:5]) <= chosen_negatives(seed) for seed in range(3))
