"""The four losses of SPM-Tracker, eq. (1) of the paper (sec. 4.2).

``L = l1 Lcm_cls + l2 Lcm_box + l3 Lfm_cls + l4 Lfm_box`` with
``(l1, l2, l3, l4) = (1, 2, 1, 1)``: cross-entropy for the 2-way scores and
smooth L1 (Fast R-CNN) for the box deltas, box losses on positives only.

Normalisation (the paper is silent; ours): a classification loss is the mean
over the labelled samples of the *global* batch (CM anchors labelled 1 or 0,
FM samples in the mask), a box loss the sum of the four smooth-L1 terms
averaged over the global batch's positives. Inside ``pmap`` the counts are
``psum``-ed over ``axis_name`` and each device returns ``n_devices x`` its
share, so that ``lax.pmean`` of the per-device losses (and of their gradients)
is the global loss however the batch is split over devices.
"""

import jax
import jax.numpy as jnp

LOSS_NAMES = ('cm_cls', 'cm_box', 'fm_cls', 'fm_box')


def softmax_cross_entropy(logits, labels):
  """Cross-entropy of 2-way logits.

  Args:
    logits: [..., 2] (background, foreground) logits.
    labels: [...] int, 1 foreground, 0 background (other values: any finite
      result, mask them out).

  Returns:
    [...] ``-log softmax(logits)[label]``.
  """
  logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
  onehot = jax.nn.one_hot(jnp.clip(labels, 0, 1), 2, dtype=logp.dtype)
  return -jnp.sum(onehot * logp, axis=-1)


def smooth_l1(x, beta=1.0):
  """Element-wise smooth L1: ``0.5 x^2 / beta`` if ``|x| < beta`` else ``|x| - 0.5 beta``."""
  x = jnp.abs(x)
  if beta <= 0:
    return x
  return jnp.where(x < beta, 0.5 * x * x / beta, x - 0.5 * beta)


def masked_mean(values, weights, axis_name=None):
  """``sum(values * weights) / sum(weights)`` over the global batch.

  Args:
    values: [...] per-sample losses.
    weights: [...] non-negative weights (masks as 0/1), same shape.
    axis_name: pmap axis; the denominator is ``psum``-ed over it and the
      result scaled by the number of devices, so that ``pmean`` over the axis
      gives the global weighted mean. None: the local mean.

  Returns:
    [] float32; 0 when the weights sum to 0.
  """
  weights = weights.astype(jnp.float32)
  total = jnp.sum(values.astype(jnp.float32) * weights)
  count = jax.lax.stop_gradient(jnp.sum(weights))
  scale = 1.0
  if axis_name is not None:
    count = jax.lax.psum(count, axis_name)
    scale = jax.lax.psum(1.0, axis_name)
  return scale * total / jnp.maximum(count, 1.0)


def cm_losses(cls_logits, deltas, cls_label, reg_target, reg_weight, *, beta=1.0, axis_name=None):
  """Losses of the CM stage (anchors of the score map).

  Args:
    cls_logits: [B, S, S, A, 2] logits.
    deltas: [B, S, S, A, 4] predicted dx, dy, dw, dh relative to the anchors.
    cls_label: [B, S, S, A] int in {1, 0, -1}; -1 is ignored.
    reg_target: [B, S, S, A, 4] target deltas (unit weights).
    reg_weight: [B, S, S, A] 1 at the positives that get a box loss.
    beta: smooth-L1 transition point.
    axis_name: pmap axis for the global normalisation (see :func:`masked_mean`).

  Returns:
    dict ``cm_cls`` and ``cm_box`` scalars.
  """
  ce = softmax_cross_entropy(cls_logits, cls_label)
  box = jnp.sum(smooth_l1(deltas.astype(jnp.float32) - reg_target, beta), axis=-1)
  return {'cm_cls': masked_mean(ce, cls_label >= 0, axis_name),
          'cm_box': masked_mean(box, reg_weight, axis_name)}


def fm_losses(cls_logits, deltas, labels, reg_target, mask, *, beta=1.0, axis_name=None):
  """Losses of the FM stage on the sampled proposals.

  Args:
    cls_logits: [B, N, 2] logits of the N sampled proposals.
    deltas: [B, N, 4] predicted deltas (weighted by the FM delta weights).
    labels: [B, N] int, 1 positive, 0 negative.
    reg_target: [B, N, 4] target deltas, same weighting.
    mask: [B, N] bool, the sample slot holds a proposal.
    beta: smooth-L1 transition point.
    axis_name: pmap axis for the global normalisation.

  Returns:
    dict ``fm_cls`` and ``fm_box`` scalars.
  """
  ce = softmax_cross_entropy(cls_logits, labels)
  box = jnp.sum(smooth_l1(deltas.astype(jnp.float32) - reg_target, beta), axis=-1)
  return {'fm_cls': masked_mean(ce, mask, axis_name),
          'fm_box': masked_mean(box, mask & (labels == 1), axis_name)}


def total_loss(losses, weights):
  """Eq. (1): ``sum_i weights[i] * losses[LOSS_NAMES[i]]`` (absent losses count 0)."""
  if len(weights) != len(LOSS_NAMES):
    raise ValueError(f'need {len(LOSS_NAMES)} loss weights {LOSS_NAMES}, got {weights}')
  return sum(w * losses[n] for n, w in zip(LOSS_NAMES, weights) if n in losses and w)
