"""The per-frame tracking step as pure functions (paper sec. 4.3).

``template_fn`` runs once on the first frame's template crop; ``track_fn`` runs
once per frame on the search crop and does, in one compiled function: backbone,
CM stage, proposal selection (near candidate + score filter + NMS + top-K, all
with static shapes), FM stage, fusion by eq. (2), cosine window, and the state
update (size interpolation, clamping to the frame). Nothing returns to the
host inside the step.

Where the authors' release and this project's procedure differ (template crop,
cosine window, proposal rules, state clamp, "+1" boxes) the config chooses,
see :mod:`spm_jax.tracking.procedure`.

Coordinate frames: *crop* pixels are those of the 271x271 search crop; *frame*
pixels those of the video frame. ``crop = (frame - origin) * scale``.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spm_jax import models
from spm_jax.ops import boxes as box_ops
from spm_jax.ops import nms as nms_ops
from spm_jax.tracking import procedure as procedure_ops


# Largest box side the release clamp lets through (frame pixels): the release has
# none; this one only stops a runaway box before float32 overflows.
MAX_SIDE = float(2 ** 24)


class TrackState(NamedTuple):
  """Target state carried from frame to frame (all frame pixels, float32)."""
  center: jnp.ndarray  # [2] cx, cy
  size: jnp.ndarray  # [2] w, h


class CropGeometry(NamedTuple):
  """Where the search crop sits in the frame."""
  origin: jnp.ndarray  # [2] frame x, y of the crop's top-left corner
  scale: jnp.ndarray  # [] crop pixels per frame pixel
  frame_size: jnp.ndarray  # [2] frame width, height


def cosine_window(centers, score_size, stride, offset):
  """2-D Hann window evaluated at box centres.

  The window is the outer product of two Hann windows spanning the score map's
  anchor centres (``offset`` .. ``offset + stride * (score_size - 1)``); centres
  outside that span get 0.

  Args:
    centers: [..., 2] cx, cy in search-crop pixels.

  Returns:
    [...] window values in [0, 1].
  """
  t = jnp.clip((centers - offset) / stride, 0.0, score_size - 1.0)
  hann = 0.5 - 0.5 * jnp.cos(2.0 * jnp.pi * t / (score_size - 1.0))
  return hann[..., 0] * hann[..., 1]


def crop_window(centers, crop_size):
  """The release's 2-D Hann window, spanning the whole search crop.

  ``0.5 - 0.5 cos(2 pi d)`` per axis with ``d = c / (crop_size - 1)`` clipped
  to [0, 1] (``calculate_window_scores`` of the release), times over x and y.

  Args:
    centers: [..., 2] cx, cy in search-crop pixels.
    crop_size: side of the search crop (271).

  Returns:
    [...] window values in [0, 1].
  """
  d = jnp.clip(centers / (crop_size - 1.0), 0.0, 1.0)
  hann = 0.5 - 0.5 * jnp.cos(2.0 * jnp.pi * d)
  return hann[..., 0] * hann[..., 1]


def size_change_penalty(sizes, prev_size, k):
  """SiamRPN's penalty on a change of scale and aspect ratio (pysot PENALTY_K).

  ``exp(-(r_c s_c - 1) k)`` with ``s_c = change(sz(w, h) / sz(w', h'))``,
  ``r_c = change((w / h) / (w' / h'))``, ``change(r) = max(r, 1 / r)`` and
  ``sz(w, h) = sqrt((w + p) (h + p))``, ``p = (w + h) / 2`` (the context side).
  1 for an unchanged box, smaller the more the box changes.

  Args:
    sizes: [..., 2] w, h of the candidates (any one pixel frame).
    prev_size: [2] w, h of the previous target, same frame.
    k: penalty strength (0: none).

  Returns:
    [...] penalties in (0, 1].
  """
  def change(r):
    return jnp.maximum(r, 1.0 / r)

  sizes, prev_size = jnp.asarray(sizes), jnp.asarray(prev_size)
  side = lambda wh: box_ops.context_side(wh[..., 0], wh[..., 1], 0.5)
  s_c = change(side(sizes) / side(prev_size))
  r_c = change((sizes[..., 0] / sizes[..., 1]) / (prev_size[0] / prev_size[1]))
  return jnp.exp(-(r_c * s_c - 1.0) * k)


def fuse(uc, uf, box_c, box_f, score_weight, box_weight):
  """Fusion of the two stages, eq. (2) of the paper.

  ``u = (1 - Wcls) uc + Wcls uf`` and
  ``B = uc / (Wbox uf + uc) Bc + Wbox uf / (Wbox uf + uc) Bf``.

  Args:
    uc, uf: [K] CM and FM foreground scores.
    box_c, box_f: [K, 4] CM and FM boxes (any one layout, same frame).
    score_weight: Wcls.
    box_weight: Wbox.

  Returns:
    u: [K] fused scores; box: [K, 4] fused boxes.
  """
  u = (1.0 - score_weight) * uc + score_weight * uf
  denom = jnp.maximum(box_weight * uf + uc, 1e-12)
  wc = (uc / denom)[:, None]
  return u, wc * box_c + (1.0 - wc) * box_f


def _candidate_counts(config):
  """(K, near candidates) of the ``tracking`` ConfigDict; 0 or 1 near candidate."""
  n_near = config.num_near_candidates
  if n_near not in (0, 1):
    raise ValueError(f'num_near_candidates must be 0 or 1, got {n_near}')
  return config.num_candidates, n_near


def select_proposals(boxes, scores, prev_box, config):
  """The K proposals passed to the FM stage, with static shapes.

  The box with the highest score among those with IoU > ``near_iou`` with the
  previous box is kept first ("near" candidate, to keep the stability); the
  others are filtered (score < ``score_thresh_factor`` x max), suppressed by
  NMS at ``nms_threshold`` (the near box suppresses too) and the best fill
  the remaining slots. When no near box exists all K slots come from NMS.

  Args:
    boxes: [N, 4] x1, y1, x2, y2 CM boxes in search-crop pixels.
    scores: [N] CM foreground scores.
    prev_box: [4] x1, y1, x2, y2 previous target in search-crop pixels.
    config: the ``tracking`` ConfigDict.

  Returns:
    indices: [K] int32 into ``boxes``; valid: [K] bool.
  """
  k, n_near = _candidate_counts(config)
  top_n = min(config.pre_nms_top_n, scores.shape[0])
  if top_n < k:
    raise ValueError(f'pre_nms_top_n ({top_n}) must be >= num_candidates ({k})')

  near_ok = box_ops.iou(boxes, prev_box) > config.near_iou
  near_idx = jnp.argmax(jnp.where(near_ok, scores, -jnp.inf)).astype(jnp.int32)
  has_near = jnp.any(near_ok) & (n_near > 0)

  top_scores, top_idx = jax.lax.top_k(scores, top_n)
  top_boxes = boxes[top_idx]
  valid = top_scores >= config.score_thresh_factor * top_scores[0]
  valid &= ~(has_near & (top_idx == near_idx))
  near_box = boxes[near_idx][None]
  picks, keep = nms_ops.nms_top_k(top_boxes, top_scores, valid, k, config.nms_threshold,
                                  suppressors=(near_box, has_near[None]))
  picked = top_idx[picks]
  with_near_idx = jnp.concatenate([near_idx[None], picked[:k - 1]])
  with_near_keep = jnp.concatenate([jnp.ones((1,), bool), keep[:k - 1]])
  indices = jnp.where(has_near, with_near_idx, picked)
  valid = jnp.where(has_near, with_near_keep, keep)
  return indices, valid


def select_proposals_release(boxes, scores, prev_box, config, plus_one):
  """The release's K proposals (``generate_proposal_boxes``), with static shapes.

  1. Near candidate: among the boxes with IoU > ``near_iou`` with the previous
     box, the best-scoring one when there are more than one; otherwise the box
     of highest IoU (ties: the lowest index), whatever its IoU.
  2. Every other box (all of them, no cap) is kept when its score is >=
     ``score_thresh_factor`` x the best score among them (the near box left
     out of that maximum).
  3. Greedy NMS over those, dropping IoU >= ``nms_threshold`` (no "+1"; the
     near box does not suppress), the best ``K - 1`` in score order, then the
     near box last.

  Args:
    boxes: [N, 4] x1, y1, x2, y2 CM boxes in frame pixels (the release tests
      and suppresses in frame pixels; the near test's "+1" is a frame pixel).
    scores: [N] CM foreground scores.
    prev_box: [4] x1, y1, x2, y2 previous target, frame pixels.
    config: the ``tracking`` ConfigDict.
    plus_one: the near test's IoU uses "+1" widths (``model.box_plus_one``).

  Returns:
    indices: [K] int32 into ``boxes``; valid: [K] bool.
  """
  k, n_near = _candidate_counts(config)
  n = scores.shape[0]
  others = jnp.ones((n,), bool)
  if n_near:
    overlaps = box_ops.iou(boxes, prev_box, plus_one=plus_one)
    near_ok = overlaps > config.near_iou
    near_idx = jnp.where(jnp.sum(near_ok) > n_near,
                         jnp.argmax(jnp.where(near_ok, scores, -jnp.inf)),
                         jnp.argmax(overlaps)).astype(jnp.int32)
    others = others.at[near_idx].set(False)
  best_other = jnp.max(jnp.where(others, scores, -jnp.inf))
  valid = others & (scores >= config.score_thresh_factor * best_other)
  picks, keep = nms_ops.nms_top_k(boxes, scores, valid, k - n_near, config.nms_threshold,
                                  inclusive=True)
  if not n_near:
    return picks, keep
  return (jnp.concatenate([picks, near_idx[None]]),
          jnp.concatenate([keep, jnp.ones((1,), bool)]))


def make_track_fns(config):
  """Builds the jitted template and per-frame functions for ``config``.

  Returns:
    template_fn(variables, z_crop, z_box) -> template pytree, with z_crop
      [S, S, 3] RGB (uint8, or float 0..255) and z_box [4] x1, y1, x2, y2
      template-crop pixels; S is :func:`template_crop_size`; every leaf has a
      leading batch axis of 1.
    track_fn(variables, template, x_crop, state, geometry) ->
      (new_state, outputs), with x_crop [Sx, Sx, 3] RGB (uint8, or float
      0..255 for ``tracking.crop_sampling='release'``), ``state`` a
      :class:`TrackState` and ``geometry`` a :class:`CropGeometry`. ``outputs``
      holds ``box`` [4] x, y, w, h frame pixels, ``score`` [], and for
      inspection ``estimate`` [4] x, y, w, h frame pixels (this frame's chosen
      box, its size times ``tracking.size_scale``, before the size update
      smooths it and the frame clips it),
      ``proposals`` [K, 4] x, y, w, h frame pixels (the CM boxes; with the
      release's proposal rules the near candidate is the last),
      ``refined`` [K, 4] x, y, w, h frame pixels (the FM stage's boxes of
      the proposals; the CM boxes for ``variant=cm_only``), ``cm_scores``,
      ``fm_scores``, ``fused_scores`` [K], ``valid`` [K] (for
      ``variant=cm_only`` these cover all anchors' top K by windowed score)
      and ``chosen`` [] int32, the candidate the box comes from (the best
      valid one after size-change penalty and cosine window).
      It is an :class:`UnbatchedStep`: ``track_fn.batched`` is the jitted
      function with outputs of leading axis 1 (host code slices after the
      transfer), ``track_fn._cache_size()`` its compilations.
  """
  template_fn, track_batch = make_batch_fns(config)

  @jax.jit
  def track_one(variables, template, x_crop, state, geometry):
    add_batch = lambda tree: jax.tree.map(lambda a: jnp.asarray(a)[None], tree)
    return track_batch(variables, template, x_crop[None], add_batch(state), add_batch(geometry))

  return jax.jit(template_fn), UnbatchedStep(track_one)


class UnbatchedStep:
  """``track_fn``: the jitted step on a batch of one, batch axis dropped after.

  The batch axis is added inside the compiled function but removed outside
  it: slicing inside changes XLA's fusion of the final state update and with
  it the float rounding (1 ulp), and a tracker's closed loop turns 1 ulp into
  visibly different boxes after a few frames. Compiled this way a single
  target runs the very computation of one slot of
  :class:`spm_jax.tracking.MultiTracker`.

  Attributes:
    batched: the jitted function, same arguments, outputs with a leading [1].
  """

  def __init__(self, batched):
    self.batched = batched

  def __call__(self, variables, template, x_crop, state, geometry):
    out = self.batched(variables, template, x_crop, state, geometry)
    return jax.tree.map(lambda a: a[0], out)

  def _cache_size(self):
    return self.batched._cache_size()


def make_batch_fns(config):
  """The un-jitted template function and the tracking step over a batch.

  One batch entry is one target in its own frame stream: the network runs on
  the whole batch at once (batched convolutions), the per-target logic
  (proposal selection, fusion, state update) is vmapped. Everything static
  (model, config, procedure, anchors, window) is bound here by
  ``functools.partial``; only arrays are arguments.

  Returns:
    template_fn(variables, z_crop, z_box): as in :func:`make_track_fns`.
    track_batch(variables, templates, x_crops, states, geometries) ->
      (new_states, outputs): ``templates`` are template pytrees concatenated
      along their leading axis ([B, ...] leaves), x_crops [B, Sx, Sx, 3] uint8
      RGB, ``states`` / ``geometries`` with a leading [B] axis on every field;
      the outputs are those of :func:`make_track_fns`'s ``track_fn`` with a
      leading [B] axis.
  """
  model = models.build_model(config)
  m, t = config.model, config.tracking
  proc = procedure_ops.resolve(t)
  plus_one = procedure_ops.box_plus_one(m)
  anchors = jnp.asarray(models.model_anchors(m, plus_one=plus_one).reshape(-1, 4))
  window = window_fn(m, proc)
  # Configs exported before these options existed: no penalty, no size scale.
  penalty_k, size_scale = t.get('penalty_k', 0.0), t.get('size_scale', 1.0)
  if m.variant == 'cm_only':
    propose = functools.partial(propose_windowed, tracking=t, window=window, penalty_k=penalty_k)
  elif proc.proposals == 'release':
    propose = functools.partial(propose_release, tracking=t, plus_one=plus_one)
  else:
    propose = functools.partial(propose_project, tracking=t)
  finish = functools.partial(finish_step, config=config, procedure=proc, window=window,
                             penalty_k=penalty_k, size_scale=size_scale, plus_one=plus_one)
  return (functools.partial(template_step, model=model, config=config),
          functools.partial(track_batch_step, model=model, config=config, anchors=anchors,
                            propose=propose, finish=finish, plus_one=plus_one))


def window_fn(model_config, procedure):
  """The procedure's cosine window: centres [..., 2] crop pixels -> [...] in [0, 1]."""
  m = model_config
  if procedure.window_span == 'crop':
    return functools.partial(crop_window, crop_size=m.search_size)
  g = models.crop_geometry(m)
  return functools.partial(cosine_window, score_size=g.score_size, stride=m.stride,
                           offset=g.anchor_offset)


def penalized(scores, boxes, state, geometry, *, penalty_k):
  """[K] scores times the size-change penalties of their boxes.

  Args:
    scores: [K] scores.
    boxes: [K, 4] cx, cy, w, h search-crop pixels.
    state: :class:`TrackState` (frame pixels); geometry: :class:`CropGeometry`.
    penalty_k: :func:`size_change_penalty`'s strength; 0: no penalty.

  Returns:
    (penalized scores, penalties); the scores unchanged and None without a penalty.
  """
  if not penalty_k:
    return scores, None
  pen = size_change_penalty(boxes[:, 2:], state.size * geometry.scale, penalty_k)
  return pen * scores, pen


def template_step(variables, z_crop, z_box, *, model, config):
  """The template pytree of one target (:func:`make_track_fns`'s ``template_fn``, un-jitted)."""
  template = model.apply(variables, z_crop[None].astype(jnp.float32), z_box[None],
                         method=model.template, cm_size=config.model.template_size)
  if config.model.variant == 'cm_only':
    return template
  # The template's share of the FM relation conv, once per target.
  return model.apply(variables, template, method=model.relation_template)


def propose_windowed(cm_scores, cm_boxes, state, geometry, *, tracking, window, penalty_k):
  """``variant=cm_only``: the top K of all anchors by penalized, windowed score.

  Args:
    cm_scores: [N] CM foreground scores; cm_boxes: [N, 4] cx, cy, w, h crop pixels.
    state: :class:`TrackState`; geometry: :class:`CropGeometry` (one target).

  Returns:
    indices: [K] int32 into the N boxes; valid: [K] bool (all True).
  """
  t = tracking
  win_all = window(cm_boxes[:, :2])
  pen_scores, _ = penalized(cm_scores, cm_boxes, state, geometry, penalty_k=penalty_k)
  pscore_all = (1 - t.window_influence) * pen_scores + t.window_influence * win_all
  _, idx = jax.lax.top_k(pscore_all, t.num_candidates)
  return idx, jnp.ones(idx.shape, bool)


def propose_release(cm_scores, cm_boxes, state, geometry, *, tracking, plus_one):
  """The release's proposals (:func:`select_proposals_release`), tested in frame pixels.

  Args and returns as :func:`propose_windowed`.
  """
  boxes = jnp.concatenate([geometry.origin + cm_boxes[:, :2] / geometry.scale,
                           cm_boxes[:, 2:] / geometry.scale], axis=-1)
  prev = jnp.concatenate([state.center, state.size])
  return select_proposals_release(box_ops.cxcywh_to_xyxy(boxes), cm_scores,
                                  box_ops.cxcywh_to_xyxy(prev), tracking, plus_one)


def propose_project(cm_scores, cm_boxes, state, geometry, *, tracking):
  """This project's proposals (:func:`select_proposals`), in crop pixels.

  Args and returns as :func:`propose_windowed`.
  """
  prev_crop = jnp.concatenate([(state.center - geometry.origin) * geometry.scale,
                               state.size * geometry.scale])
  return select_proposals(box_ops.cxcywh_to_xyxy(cm_boxes), cm_scores,
                          box_ops.cxcywh_to_xyxy(prev_crop), tracking)


def stage_outputs(uc, boxes_c, fm_logits, fm_deltas, *, config, plus_one):
  """The FM stage's scores and boxes and their fusion with the CM stage's, per variant.

  Args:
    uc: [K] CM scores; boxes_c: [K, 4] cx, cy, w, h crop-pixel CM boxes.
    fm_logits: [K, 2], fm_deltas: [K, 4] FM outputs ([K, 0] for ``cm_only``).

  Returns:
    uf [K] FM scores (0 for ``cm_only``), u [K] final scores, fused [K, 4]
    final boxes, boxes_f [K, 4] FM boxes (the CM boxes for ``cm_only``); boxes
    cx, cy, w, h crop pixels.
  """
  m, t = config.model, config.tracking
  if m.variant == 'cm_only':
    return jnp.zeros_like(uc), uc, boxes_c, boxes_c
  uf = jax.nn.softmax(fm_logits, axis=-1)[:, 1]
  boxes_f = box_ops.decode_deltas(boxes_c, fm_deltas, weights=tuple(m.fm.delta_weights),
                                  plus_one=plus_one)
  if m.variant == 'series':
    return uf, uf, boxes_f, boxes_f
  u, fused = fuse(uc, uf, boxes_c, boxes_f, t.fm_score_weight, t.fm_box_weight)
  return uf, u, fused, boxes_f


def update_state_release(state, center, size, lr, confident, geometry, *, tracking):
  """The release's update: a low score keeps the previous box as it is.

  Args:
    state: previous :class:`TrackState`; center, size: [2] the chosen box,
      frame pixels; lr: [] size learning rate; confident: [] bool.
    geometry: :class:`CropGeometry`.

  Returns:
    (new :class:`TrackState`, [4] x, y, w, h frame-pixel box).
  """
  moved = clamp_state_release(TrackState(center, (1 - lr) * state.size + lr * size),
                              geometry.frame_size, tracking.min_size)
  new_state = TrackState(*(jnp.where(confident, a, b) for a, b in zip(moved, state)))
  return new_state, box_ops.cxcywh_to_xywh(jnp.concatenate(new_state))


def update_state_project(state, center, size, lr, confident, geometry, *, tracking):
  """This project's update: clamped to the frame, the box cut to it.

  Args and returns as :func:`update_state_release`.
  """
  center = jnp.where(confident, center, state.center)
  size = jnp.where(confident, (1 - lr) * state.size + lr * size, state.size)
  new_state = clamp_state(TrackState(center, size), geometry.frame_size, tracking.min_size)
  return new_state, clip_to_frame(new_state, geometry.frame_size)


STATE_UPDATES = {'release': update_state_release, 'project': update_state_project}


def finish_step(uc, boxes_c, fm_logits, fm_deltas, valid, state, geometry, *, config, procedure,
                window, penalty_k, size_scale, plus_one):
  """One target: fusion, penalty, window, choice and state update.

  Args:
    uc: [K] CM scores; boxes_c: [K, 4] cx, cy, w, h crop-pixel CM boxes.
    fm_logits, fm_deltas: see :func:`stage_outputs`; valid: [K] bool.
    state: :class:`TrackState`; geometry: :class:`CropGeometry`.

  Returns:
    (new :class:`TrackState`, outputs dict of :func:`make_track_fns`).
  """
  t = config.tracking
  uf, u, fused, boxes_f = stage_outputs(uc, boxes_c, fm_logits, fm_deltas, config=config,
                                        plus_one=plus_one)
  pen_u, pen = penalized(u, fused, state, geometry, penalty_k=penalty_k)
  at = boxes_c if procedure.window_at == 'cm' else fused
  pscore = (1 - t.window_influence) * pen_u + t.window_influence * window(at[:, :2])
  best = jnp.argmax(jnp.where(valid, pscore, -jnp.inf))
  score = u[best]
  best_box = fused[best]
  if size_scale != 1.0:  # calibrates a size regression that reads targets too large
    best_box = jnp.concatenate([best_box[:2], best_box[2:] * size_scale])
  center = geometry.origin + best_box[:2] / geometry.scale
  size = best_box[2:] / geometry.scale
  confident = score >= t.min_score
  lr = t.size_lr * score
  if pen is not None:
    lr = lr * pen[best]  # pysot: the size follows less after a big change.
  new_state, box = STATE_UPDATES[procedure.state_clamp](state, center, size, lr, confident,
                                                         geometry, tracking=t)

  def to_frame_xywh(b):
    b = jnp.concatenate([geometry.origin + b[:, :2] / geometry.scale, b[:, 2:] / geometry.scale],
                        axis=-1)
    return box_ops.cxcywh_to_xywh(b)

  outputs = {
      'box': box,
      'score': score,
      'estimate': to_frame_xywh(best_box[None])[0],
      'proposals': to_frame_xywh(boxes_c),
      'refined': to_frame_xywh(boxes_f),
      'cm_scores': uc,
      'fm_scores': uf,
      'fused_scores': u,
      'valid': valid,
      'chosen': best.astype(jnp.int32),
  }
  return new_state, outputs


def track_batch_step(variables, templates, x_crops, states, geometries, *, model, config,
                     anchors, propose, finish, plus_one):
  """The tracking step over a batch (:func:`make_batch_fns`'s ``track_batch``).

  Args:
    anchors: [N, 4] cx, cy, w, h search-crop anchors.
    propose: per target, [N] scores, [N, 4] boxes, state, geometry -> [K]
      indices, [K] valid (:func:`propose_windowed`, :func:`propose_release`
      or :func:`propose_project` with its options bound).
    finish: :func:`finish_step` with its options bound.
  """
  feats, logits, deltas = model.apply(variables, x_crops.astype(jnp.float32), templates,
                                      method=model.search)
  b = x_crops.shape[0]
  cm_scores = jax.nn.softmax(logits, axis=-1)[..., 1].reshape(b, -1)  # [B, N]
  cm_boxes = box_ops.decode_deltas(anchors, deltas.reshape(b, -1, 4),
                                   plus_one=plus_one)  # [B, N, 4] cx, cy, w, h
  idx, valid = jax.vmap(propose)(cm_scores, cm_boxes, states, geometries)  # [B, K]
  uc = jnp.take_along_axis(cm_scores, idx, axis=1)
  boxes_c = jnp.take_along_axis(cm_boxes, idx[..., None], axis=1)  # [B, K, 4]
  if config.model.variant == 'cm_only':
    fm_logits = fm_deltas = jnp.zeros(boxes_c.shape[:2] + (0,), boxes_c.dtype)
  else:
    fm_logits, fm_deltas = model.apply(variables, feats, box_ops.cxcywh_to_xyxy(boxes_c),
                                       templates, method=model.refine)
  return jax.vmap(finish)(uc, boxes_c, fm_logits, fm_deltas, valid, states, geometries)


def clamp_state(state, frame_size, min_size):
  """Keeps the centre inside the frame and the size in [min_size, frame size].

  Args:
    state: :class:`TrackState` in frame pixels.
    frame_size: [2] frame width, height.
    min_size: smallest side in pixels.
  """
  frame_size = jnp.asarray(frame_size, jnp.float32)
  center = jnp.clip(jnp.nan_to_num(state.center), 0.0, frame_size)
  size = jnp.clip(jnp.nan_to_num(state.size, nan=min_size), min_size,
                  jnp.maximum(frame_size, min_size))
  return TrackState(center, size)


def clamp_state_release(state, frame_size, min_size):
  """The release's clamp (``linear_inter``): sides >= ``min_size``; centre in
  ``[0, W - w / 2]`` x ``[0, H - h / 2]`` (0 wins when the upper end is
  negative). The release has no upper size limit; here sides stop at
  ``MAX_SIDE`` (2**24 pixels) so that a runaway box stays finite.

  Args:
    state: :class:`TrackState` in frame pixels.
    frame_size: [2] frame width, height.
    min_size: smallest side in pixels.
  """
  size = jnp.clip(jnp.nan_to_num(state.size, nan=min_size), min_size, MAX_SIDE)
  hi = jnp.asarray(frame_size, jnp.float32) - size / 2
  center = jnp.maximum(jnp.minimum(jnp.nan_to_num(state.center), hi), 0.0)
  return TrackState(center, size)


def template_crop_size(config):
  """Side of the first-frame crop the template is taken from (``tracking.template_crop``)."""
  m = config.model
  if procedure_ops.resolve(config.tracking).template_crop == 'search':
    return m.search_size
  return m.template_size


def clip_to_frame(state, frame_size):
  """The state's box cut to the frame: [4] x, y, w, h frame pixels.

  With the centre inside the frame (see :func:`clamp_state`) the result is a
  box of positive size that lies wholly inside the frame.
  """
  lo = jnp.maximum(state.center - state.size / 2, 0.0)
  hi = jnp.minimum(state.center + state.size / 2, frame_size)
  return jnp.concatenate([lo, hi - lo])


def as_state(center, size):
  """A :class:`TrackState` from host values (frame pixels)."""
  return TrackState(jnp.asarray(np.asarray(center, np.float32)),
                    jnp.asarray(np.asarray(size, np.float32)))
