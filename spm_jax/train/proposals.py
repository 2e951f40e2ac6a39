"""Training samples of the FM stage, drawn inside the jitted step (sec. 4.2).

"In each step, the CM stage produces hundreds of candidate boxes, among which
48 boxes are selected to train the FM stage. The positive-negative ratio is
set to 1 : 1." Per pair, with static shapes:

1. decode the CM boxes of every anchor (no gradient flows back through them),
   clip them to the search crop, keep the ``pre_nms_top_n`` best foreground
   scores, NMS at ``nms_iou`` (release: 0.75) down to ``post_nms_top_n``;
2. add ``num_jitter`` jittered copies of the template's own instance box
   (same-instance pairs only), used only as positives and only to fill the
   positive half when the CM candidates hold too few positives (early in
   training, when the CM stage proposes nothing useful);
3. label: IoU with the template's own instance > ``pos_iou`` positive,
   < ``neg_iou`` negative (0.5 / 0.5). A same-category or different-category
   pair has no instance in the search crop: all its candidates are negatives;
4. draw at most ``num_samples * positive_fraction`` positives (CM candidates
   first) and negatives for the remaining slots, uniformly at random
   (``jax.random`` with one key per pair); with ``hard_negatives`` N > 0 the
   N best-scoring negative CM candidates are drawn before the other negatives
   (sec. 3.1: FM training "benefits from ... hard negative mining"; the release
   keeps only the top 8 proposals). Slots that cannot be filled are
   masked. With ``fill_negatives`` (Faster R-CNN's rule) negatives fill the
   positive slots left empty, so negative pairs train the FM stage on 48
   negatives, the same-category distractors among them.

Boxes are x1, y1, x2, y2 in search-crop pixels unless said otherwise.
"""

import jax
import jax.numpy as jnp

from spm_jax.ops import boxes as box_ops
from spm_jax.ops import nms as nms_ops


def decode_cm_boxes(cls_logits, deltas, anchors, crop_size):
  """Foreground scores and boxes of every anchor of one pair.

  Args:
    cls_logits: [S, S, A, 2] CM logits (foreground = index 1).
    deltas: [S, S, A, 4] CM deltas relative to the anchors (unit weights).
    anchors: [S, S, A, 4] or [N, 4] cx, cy, w, h search-crop pixels.
    crop_size: side of the search crop; boxes are clipped to [0, crop_size].

  Returns:
    scores: [N] foreground probabilities; boxes: [N, 4] x1, y1, x2, y2.
  """
  scores = jax.nn.softmax(cls_logits.astype(jnp.float32), axis=-1)[..., 1].reshape(-1)
  boxes = box_ops.decode_deltas(jnp.reshape(anchors, (-1, 4)), deltas.reshape(-1, 4))
  boxes = jnp.clip(box_ops.cxcywh_to_xyxy(boxes), 0.0, float(crop_size))
  return scores, boxes


def candidate_pool(scores, boxes, *, pre_nms_top_n, post_nms_top_n, nms_iou, min_size):
  """The CM candidates of one pair: top scores, NMS, fixed count.

  Args:
    scores: [N] CM foreground scores.
    boxes: [N, 4] x1, y1, x2, y2.
    pre_nms_top_n: boxes entering NMS (static).
    post_nms_top_n: boxes kept (static).
    nms_iou: NMS threshold.
    min_size: boxes with a side < this many pixels are dropped.

  Returns:
    boxes: [post_nms_top_n, 4]; valid: [post_nms_top_n] bool.
  """
  top_n = min(pre_nms_top_n, scores.shape[0])
  top_scores, top_idx = jax.lax.top_k(scores, top_n)
  top_boxes = boxes[top_idx]
  big = jnp.minimum(top_boxes[:, 2] - top_boxes[:, 0], top_boxes[:, 3] - top_boxes[:, 1]) >= min_size
  picks, keep = nms_ops.nms_top_k(top_boxes, top_scores, big, post_nms_top_n, nms_iou)
  return top_boxes[picks], keep


def jitter_boxes(key, box, num, scale):
  """``num`` random perturbations of one box.

  Centres move by up to ``scale`` x the side (uniform), sides are multiplied
  by ``exp(u)``, ``u`` uniform in [-scale, scale]. The first copy is the box
  itself.

  Args:
    key: PRNG key.
    box: [4] x1, y1, x2, y2.
    num: number of copies (static).
    scale: jitter amplitude.

  Returns:
    [num, 4] x1, y1, x2, y2.
  """
  c = box_ops.xyxy_to_cxcywh(box)
  u = jax.random.uniform(key, (num, 4), minval=-scale, maxval=scale)
  u = u.at[0].set(0.0)
  out = jnp.concatenate([c[:2] + u[:, :2] * c[2:], c[2:] * jnp.exp(u[:, 2:])], axis=-1)
  return box_ops.cxcywh_to_xyxy(out)


def label_boxes(boxes, valid, target_box, has_target, pos_iou=0.5, neg_iou=0.5):
  """FM labels against the template's own instance.

  Args:
    boxes: [M, 4] x1, y1, x2, y2 candidates.
    valid: [M] bool.
    target_box: [4] x1, y1, x2, y2 of the template's instance.
    has_target: [] bool; False: every valid box is negative.
    pos_iou: IoU above which a box is positive.
    neg_iou: IoU below which a box is negative (boxes in between are unused).

  Returns:
    positive, negative: [M] bool; iou: [M] IoU with the target (0 without one).
  """
  overlap = jnp.where(has_target, box_ops.iou(boxes, target_box), 0.0)
  positive = valid & has_target & (overlap > pos_iou)
  negative = valid & (overlap < neg_iou)
  return positive, negative, overlap


def choose(key, positive, negative, preferred, *, num_samples, positive_fraction,
           fill_negatives=True, preferred_negative=None):
  """Random fixed-size choice of positives and negatives.

  Args:
    key: PRNG key.
    positive, negative: [M] bool eligibility (disjoint).
    preferred: [M] bool, positives drawn before the others (CM candidates
      before jittered instance boxes).
    preferred_negative: optional [M] bool, negatives drawn before the others
      (hard negatives).
    num_samples: slots (static).
    positive_fraction: at most this share of slots are positives.
    fill_negatives: negatives take the positive slots left empty.

  Returns:
    index: [num_samples] int32 into the M boxes (0 in empty slots).
    label: [num_samples] int32, 1 positive, 0 negative.
    mask: [num_samples] bool, the slot holds a sample. Positives come first.
  """
  m = positive.shape[0]
  max_pos = int(num_samples * positive_fraction)
  kp, kn = jax.random.split(key)
  pos_prio = jnp.where(positive, jax.random.uniform(kp, (m,)) + preferred.astype(jnp.float32),
                       -1.0)
  neg_prio = jax.random.uniform(kn, (m,))
  if preferred_negative is not None:
    neg_prio += jnp.asarray(preferred_negative, jnp.float32)
  neg_prio = jnp.where(negative, neg_prio, -1.0)
  pos_val, pos_idx = jax.lax.top_k(pos_prio, min(max_pos, m))
  neg_val, neg_idx = jax.lax.top_k(neg_prio, min(num_samples, m))
  pos_ok = pos_val >= 0
  neg_ok = neg_val >= 0
  num_pos = jnp.sum(pos_ok)
  max_neg = num_samples - num_pos if fill_negatives else num_samples - max_pos

  slots = jnp.arange(num_samples)
  is_pos = slots < num_pos
  pi = jnp.clip(slots, 0, pos_idx.shape[0] - 1)
  ni = jnp.clip(slots - num_pos, 0, neg_idx.shape[0] - 1)
  neg_slot_ok = neg_ok[ni] & (slots - num_pos < max_neg) & (slots - num_pos < neg_idx.shape[0])
  index = jnp.where(is_pos, pos_idx[pi], neg_idx[ni])
  mask = jnp.where(is_pos, True, neg_slot_ok)
  label = is_pos.astype(jnp.int32)
  return jnp.where(mask, index, 0).astype(jnp.int32), jnp.where(mask, label, 0), mask


def sample_pair(key, cls_logits, deltas, target_box, has_target, *, anchors, crop_size,
                delta_weights, config):
  """FM training samples of one pair (see the module docstring).

  Args:
    key: PRNG key of the pair.
    cls_logits: [S, S, A, 2]; deltas: [S, S, A, 4] CM outputs.
    target_box: [4] x1, y1, x2, y2 of the template's own instance.
    has_target: [] bool.
    anchors: [N, 4] cx, cy, w, h.
    crop_size: search crop side.
    delta_weights: FM delta weights (5, 5, 10, 10).
    config: the ``fm_train`` ConfigDict.

  Returns:
    dict ``boxes`` [n, 4] x1, y1, x2, y2, ``labels`` [n] int32, ``mask`` [n]
    bool, ``reg_target`` [n, 4] weighted deltas towards the target (0 where
    not positive), ``iou`` [n], ``from_cm`` [n] bool (n = num_samples).
  """
  cls_logits = jax.lax.stop_gradient(cls_logits)
  deltas = jax.lax.stop_gradient(deltas)
  scores, boxes = decode_cm_boxes(cls_logits, deltas, anchors, crop_size)
  cand, cand_ok = candidate_pool(scores, boxes, pre_nms_top_n=config.pre_nms_top_n,
                                 post_nms_top_n=config.post_nms_top_n, nms_iou=config.nms_iou,
                                 min_size=config.min_size)
  kj, ks = jax.random.split(key)
  jit = jitter_boxes(kj, target_box, config.num_jitter, config.jitter)
  pool = jnp.concatenate([cand, jit], axis=0)
  from_cm = jnp.arange(pool.shape[0]) < cand.shape[0]
  valid = jnp.concatenate([cand_ok, jnp.broadcast_to(has_target, (config.num_jitter,))])
  positive, negative, overlap = label_boxes(pool, valid, target_box, has_target,
                                            config.pos_iou, config.neg_iou)
  negative &= from_cm  # Jittered instance boxes are only ever positives.
  # Candidates come best first out of NMS: the first N negatives are the hardest.
  hard = negative & (jnp.cumsum(negative) <= config.get('hard_negatives', 0))
  index, labels, mask = choose(ks, positive, negative, from_cm, num_samples=config.num_samples,
                               positive_fraction=config.positive_fraction,
                               fill_negatives=config.fill_negatives, preferred_negative=hard)
  chosen = pool[index]
  target = box_ops.encode_deltas(box_ops.xyxy_to_cxcywh(chosen), box_ops.xyxy_to_cxcywh(target_box),
                                 tuple(delta_weights))
  pos = mask & (labels == 1)
  return {'boxes': chosen, 'labels': labels, 'mask': mask,
          'reg_target': jnp.where(pos[:, None], target, 0.0),
          'iou': overlap[index], 'from_cm': from_cm[index] & mask}


def sample_batch(keys, cls_logits, deltas, target_boxes, has_target, **kwargs):
  """:func:`sample_pair` over a batch.

  Args:
    keys: [B] PRNG keys (one per pair).
    cls_logits: [B, S, S, A, 2]; deltas: [B, S, S, A, 4].
    target_boxes: [B, 4] x1, y1, x2, y2; has_target: [B] bool.
    **kwargs: the keyword arguments of :func:`sample_pair`.

  Returns:
    dict of :func:`sample_pair` outputs with a leading B axis.
  """
  fn = lambda k, c, d, t, h: sample_pair(k, c, d, t, h, **kwargs)
  return jax.vmap(fn)(keys, cls_logits, deltas, target_boxes, has_target)
