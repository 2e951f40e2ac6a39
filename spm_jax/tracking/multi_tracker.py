"""Many targets, each in its own frame stream, advanced by one compiled step.

:class:`MultiTracker` holds a fixed number of *slots* (``capacity``). A slot is
one target in one video stream: ``add(slot, frame, box)`` starts it,
``remove(slot)`` frees it, and ``update({slot: frame, ...})`` advances every
slot given a frame in ONE jitted call of the batched tracking step
(:func:`spm_jax.tracking.step.make_batch_fns`): the network runs on all slots'
search crops as one batch and the per-target logic is vmapped. Slots that are
free or get no frame this time run on dummy data and keep their state (a
mask), so the compiled shapes never change: adding and removing targets never
recompiles.

How the slots are batched inside the step is ``config.tracking.multi_chunk``:
the slots run in chunks of that many, one chunk after the other
(``lax.map``), each chunk as one batch. On a CPU the default is 1: XLA:CPU's
convolutions already reach the machine's peak with one crop, and batches of
crops ran *slower* per crop (2-core EPYC, paper config: 68 ms per target in
chunks of 1..4, 81 ms as one batch of 8; ``runlocal``: 16 vs 30 ms), so the
gain of one step for many targets is the host and dispatch work saved. On
accelerators the default is the whole capacity (one batch).

Per slot the boxes are those of a single :class:`~spm_jax.tracking.Tracker`
on the same stream: same crops on the host, same step (a batch of one is the
single tracker's computation; larger chunks may differ by float rounding).

Conventions as :class:`~spm_jax.tracking.Tracker`: frames are uint8
[H, W, 3] RGB; boxes (x, y, w, h) frame pixels, 0-based, continuous (the box
spans [x, x + w]).
"""

import jax
import jax.numpy as jnp
import numpy as np

from spm_jax.data import image_io
from spm_jax.tracking import crop as crop_ops
from spm_jax.tracking import procedure as procedure_ops
from spm_jax.tracking import step as step_ops
from spm_jax.tracking.validation import check_box, check_frame

DEFAULT_CAPACITY = 64


class MultiTracker:
  """SPM-Tracker on up to ``capacity`` targets / streams at once.

  Example::

    tracker = MultiTracker(config, variables, capacity=8)
    tracker.add(0, frame_a, (x, y, w, h))
    tracker.add(1, frame_b, (x, y, w, h))
    results = tracker.update({0: next_a, 1: next_b})  # {slot: (box, score)}

  Attributes:
    capacity: number of slots (static batch size of the compiled step).
  """

  def __init__(self, config, variables, capacity=None):
    """Args:
      config: full config (``configs/spm_alexnet.py``'s ``get_config()``).
      variables: Flax variables (``spm_jax.models.init_variables`` or a checkpoint).
      capacity: number of slots; defaults to ``config.tracking.capacity``
        (64 when the config has no such key).
    """
    if capacity is None:
      capacity = config.tracking.get('capacity', DEFAULT_CAPACITY)
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 1:
      raise ValueError(f'capacity must be a positive int, got {capacity!r}')
    chunk = config.tracking.get('multi_chunk', None)
    if chunk is None:  # see the module docstring
      chunk = 1 if jax.default_backend() == 'cpu' else int(capacity)
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1 \
        or capacity % chunk:
      raise ValueError(f'tracking.multi_chunk must be a positive divisor of the capacity '
                       f'({capacity}), got {chunk!r}')
    self.config = config
    self.capacity = int(capacity)
    self.chunk = int(chunk)
    self.variables = jax.device_put(variables)
    self._procedure = procedure_ops.resolve(config.tracking)
    # Crops: uint8 from OpenCV, float32 with the release's sampling.
    self._crop_dtype = np.float32 if self._procedure.crop_sampling == 'release' else np.uint8
    template_fn, track_batch = step_ops.make_batch_fns(config)
    self._template_fn = jax.jit(template_fn)

    m = config.model
    s = self.capacity
    # Stacked templates: every leaf [capacity, ...] (the single template has [1, ...]).
    z_size = step_ops.template_crop_size(config)
    shapes = jax.eval_shape(template_fn, self.variables,
                            jax.ShapeDtypeStruct((z_size, z_size, 3), self._crop_dtype),
                            jax.ShapeDtypeStruct((4,), jnp.float32))
    self._templates = jax.tree.map(lambda a: jnp.zeros((s,) + a.shape[1:], a.dtype), shapes)

    # Host copies of the per-slot state (frame pixels, float32) and masks.
    self._center = np.zeros((s, 2), np.float32)  # [S, 2] cx, cy
    self._size = np.ones((s, 2), np.float32)  # [S, 2] w, h
    self._active = np.zeros((s,), bool)

    def write(templates, template, slot):
      """Writes a single template ([1, ...] leaves) into ``slot`` of the stack."""
      return jax.tree.map(lambda stack, one: stack.at[slot].set(one[0]), templates, template)

    def step(variables, templates, x_crops, states, geometries, active):
      """The batched step; slots where ``active`` [S] is False keep their state."""
      k = self.chunk
      if k == s:
        new_states, outputs = track_batch(variables, templates, x_crops, states, geometries)
      else:  # chunks of k slots one after the other, each a batch of k
        split = lambda a: a.reshape((s // k, k) + a.shape[1:])
        new_states, outputs = jax.lax.map(
            lambda args: track_batch(variables, *args),
            jax.tree.map(split, (templates, x_crops, states, geometries)))
        new_states, outputs = jax.tree.map(lambda a: a.reshape((s,) + a.shape[2:]),
                                           (new_states, outputs))
      keep = lambda new, old: jnp.where(active[:, None], new, old)
      new_states = step_ops.TrackState(*map(keep, new_states, states))
      return new_states, outputs['box'], outputs['score']

    self._write = jax.jit(write, donate_argnums=0)
    self._step = jax.jit(step)

  # ------------------------------------------------------------------ slots ---

  def _check_slot(self, slot):
    if isinstance(slot, bool) or not isinstance(slot, (int, np.integer)):
      raise ValueError(f'slot must be an int in [0, {self.capacity}), got {slot!r}')
    if not 0 <= slot < self.capacity:
      raise ValueError(f'slot {slot} is out of range [0, {self.capacity})')
    return int(slot)

  @property
  def active_slots(self):
    """Sorted list of the slots that hold a target."""
    return [int(i) for i in np.flatnonzero(self._active)]

  def free_slots(self):
    """Sorted list of the slots available to :meth:`add`."""
    return [int(i) for i in np.flatnonzero(~self._active)]

  def add(self, slot, frame, box):
    """Starts tracking the object in ``box`` (x, y, w, h) of ``frame`` in ``slot``.

    Raises:
      ValueError: bad slot, slot already in use, bad frame or box (the
        messages of :mod:`spm_jax.tracking.validation`).
    """
    slot = self._check_slot(slot)
    if self._active[slot]:
      raise ValueError(f'slot {slot} is already in use; remove({slot}) it first')
    check_frame(frame)
    x, y, w, h = check_box(box, frame.shape)
    m = self.config.model
    center = np.array([x + w / 2, y + h / 2])
    z_size = step_ops.template_crop_size(self.config)
    side = crop_ops.context_side((w, h), m.context_amount)
    if z_size != m.template_size:
      side = side * z_size / m.template_size
    fill = image_io.frame_mean(frame)
    crop, _, scale = crop_ops.crop_square_by(self._procedure.crop_sampling, frame, center, side,
                                             z_size, fill)
    scale = float(np.float32(scale))  # as Tracker.init, which goes through float32
    c = z_size / 2.0
    z_box = np.array([c - w * scale / 2, c - h * scale / 2, c + w * scale / 2, c + h * scale / 2],
                     np.float32)
    template = self._template_fn(self.variables, jnp.asarray(crop), jnp.asarray(z_box))
    self._templates = self._write(self._templates, template, jnp.int32(slot))
    # As Tracker.init: the state clamped to the frame (float32 throughout), or
    # the box as given with the release's clamp.
    frame_size = np.array([frame.shape[1], frame.shape[0]], np.float32)
    min_size = np.float32(self.config.tracking.min_size)
    self._center[slot] = center.astype(np.float32)
    self._size[slot] = np.array([w, h], np.float32)
    if self._procedure.state_clamp != 'release':
      self._center[slot] = np.clip(self._center[slot], 0.0, frame_size)
      self._size[slot] = np.clip(self._size[slot], min_size, np.maximum(frame_size, min_size))
    self._active[slot] = True

  def remove(self, slot):
    """Frees ``slot``; raises ValueError when it is out of range or already free."""
    slot = self._check_slot(slot)
    if not self._active[slot]:
      raise ValueError(f'slot {slot} is already free')
    self._active[slot] = False

  # ----------------------------------------------------------------- update ---

  def update(self, frames_by_slot):
    """Tracks every given slot into its next frame, in one compiled step.

    Args:
      frames_by_slot: dict slot -> uint8 [H, W, 3] RGB frame (the frames may
        differ in size). Active slots not in the dict keep their state.

    Returns:
      dict slot -> ``(box, score)``, box (x, y, w, h) float64 frame pixels,
      score a float.

    Raises:
      ValueError: a slot out of range or free, or a bad frame.
      TypeError: ``frames_by_slot`` is not a dict.
    """
    if not hasattr(frames_by_slot, 'items'):
      raise TypeError('MultiTracker.update takes a dict {slot: frame}, got '
                      f'{type(frames_by_slot).__name__}')
    slots = []
    for slot, frame in frames_by_slot.items():
      slot = self._check_slot(slot)
      if not self._active[slot]:
        raise ValueError(f'slot {slot} is free; add() a target to it before update()')
      check_frame(frame, name=f'frame of slot {slot}')
      slots.append(slot)
    if not slots:
      return {}

    m = self.config.model
    s, size = self.capacity, m.search_size
    crops = np.zeros((s, size, size, 3), self._crop_dtype)
    # Dummy geometry for the slots that do not move: a crop-sized frame.
    origins = np.zeros((s, 2), np.float32)
    scales = np.ones((s,), np.float32)
    frame_sizes = np.full((s, 2), size, np.float32)
    mask = np.zeros((s,), bool)
    for slot in slots:
      frame = frames_by_slot[slot]
      side = (crop_ops.context_side(self._size[slot], m.context_amount) * m.search_size
              / m.template_size)
      fill = image_io.frame_mean(frame)
      crops[slot], origins[slot], scales[slot] = crop_ops.crop_square_by(
          self._procedure.crop_sampling, frame, self._center[slot], side, size, fill)
      frame_sizes[slot] = (frame.shape[1], frame.shape[0])
      mask[slot] = True

    states = step_ops.TrackState(self._center, self._size)
    geometries = step_ops.CropGeometry(origins, scales, frame_sizes)
    new_states, boxes, scores = jax.device_get(
        self._step(self.variables, self._templates, crops, states, geometries, mask))
    self._center = np.array(new_states.center, np.float32)
    self._size = np.array(new_states.size, np.float32)
    return {slot: (np.asarray(boxes[slot], np.float64), float(scores[slot])) for slot in slots}
