"""Greedy non-maximum suppression with static shapes.

Written for ``jit``: the number of boxes kept is a Python int, the result is
padded and masked, and nothing leaves the device. Greedy NMS that stops after
``max_output`` picks gives the same first ``max_output`` boxes as full NMS
followed by top-k, at ``max_output`` passes over the boxes instead of N.
"""

import jax
import jax.numpy as jnp

from spm_jax.ops import boxes as box_ops


def nms_top_k(boxes, scores, valid, max_output, iou_threshold, suppressors=None,
              inclusive=False):
  """Greedy NMS returning at most ``max_output`` indices, best first.

  Args:
    boxes: [N, 4] x1, y1, x2, y2 (any pixel frame).
    scores: [N] scores; higher is better.
    valid: [N] bool, boxes that may be picked.
    max_output: static number of picks.
    iou_threshold: a box whose IoU with a picked box is > this is dropped.
      IoU without "+1" (the release's NMS has none either).
    suppressors: optional [M, 4] x1, y1, x2, y2 boxes that count as already
      picked (they suppress, but are not returned), with an [M] bool mask as
      a ``(boxes, mask)`` pair.
    inclusive: drop boxes whose IoU is >= ``iou_threshold`` (the release's
      ``cython_nms``) instead of >.

  Returns:
    indices: [max_output] int32 into ``boxes`` (0 where not valid).
    keep: [max_output] bool, whether each slot holds a pick.
  """
  boxes = jnp.asarray(boxes)
  alive = jnp.asarray(valid, bool)
  suppressed = (lambda v: v >= iou_threshold) if inclusive else (lambda v: v > iou_threshold)
  if suppressors is not None:
    sup_boxes, sup_mask = suppressors
    over = suppressed(box_ops.pairwise_iou(sup_boxes, boxes))  # [M, N]
    alive = alive & ~jnp.any(over & sup_mask[:, None], axis=0)
  scores = jnp.asarray(scores)
  neg = jnp.finfo(scores.dtype).min

  def pick(alive, _):
    masked = jnp.where(alive, scores, neg)
    idx = jnp.argmax(masked)
    ok = alive[idx]
    over = suppressed(box_ops.iou(boxes, boxes[idx]))
    alive = alive & ~(over & ok)
    alive = alive.at[idx].set(False)
    return alive, (jnp.where(ok, idx, 0).astype(jnp.int32), ok)

  _, (indices, keep) = jax.lax.scan(pick, alive, None, length=max_output)
  return indices, keep
