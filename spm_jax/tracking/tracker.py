"""Single-object tracker: the host side around the jitted step."""

import os

import jax
import jax.numpy as jnp
import numpy as np

from spm_jax import embedded_models
from spm_jax.data import image_io
from spm_jax.tracking import crop as crop_ops
from spm_jax.tracking import procedure as procedure_ops
from spm_jax.tracking import step as step_ops
from spm_jax.tracking.validation import check_box, check_frame

# The embedded default model (README: "Embedded default model").
DEFAULT_MODEL_DIR = embedded_models.MODELS['default']


class Tracker:
  """SPM-Tracker on one video stream.

  Frames are uint8 [H, W, 3] RGB; boxes are (x, y, w, h) in frame pixels with
  0-based x, y (OTB convention; continuous coordinates, the box spans
  [x, x + w]).

  Example::

    tracker = Tracker(config, variables)
    tracker.init(first_frame, (x, y, w, h))
    for frame in frames:
      box, score = tracker.update(frame)

  Attributes:
    last_outputs: host copy of the step's inspection outputs of the last
      ``update`` (proposals, CM/FM/fused scores), see
      :func:`spm_jax.tracking.step.make_track_fns`.
  """

  def __init__(self, config, variables, fns=None):
    """Args:
      config: full config (``configs/spm_alexnet.py``'s ``get_config()``).
      variables: Flax variables (``spm_jax.models.init_variables`` or a checkpoint).
      fns: optional pre-built ``(template_fn, track_fn)`` to share compilations
        between trackers of the same config.
    """
    self.config = config
    self.variables = jax.device_put(variables)
    self._procedure = procedure_ops.resolve(config.tracking)
    self._template_fn, self._track_fn = fns or step_ops.make_track_fns(config)
    self._template = None
    self._state = None
    self.last_outputs = None
    self.trained = False

  @classmethod
  def pretrained(cls, name_or_dir=None, directory=None):
    """A Tracker with an embedded or exported model loaded.

    The embedded models (:mod:`spm_jax.embedded_models`, README's "Embedded
    default model") are folders of ``config.json`` + ``variables.msgpack``
    (:mod:`spm_jax.export`) under ``spm_jax/assets/``: ``'default'`` and
    ``'procedural'`` (the AlexNet trained on the procedural synthetic videos).
    The variables are checked against the config, so a damaged asset fails here
    with the file and the mismatched shapes.

    Args:
      name_or_dir: an embedded model's name or an exported model folder;
        None: ``'default'``. When the default asset is absent (a stripped-down
        install), the tracker gets randomly initialised ``runlocal`` weights
        and ``trained`` is False.
      directory: an exported model folder (the same as ``name_or_dir``).

    Raises:
      FileNotFoundError naming the missing file and the embedded names for a
      name or folder that holds no model; ValueError when both arguments are
      given.
    """
    from spm_jax import export, models
    if name_or_dir is not None and directory is not None:
      raise ValueError('give the model as name_or_dir or directory, not both')
    source = embedded_models.resolve(name_or_dir or directory or 'default')
    if source != DEFAULT_MODEL_DIR or os.path.isdir(DEFAULT_MODEL_DIR):
      config, variables = export.load_checked(source)
      tracker = cls(config, variables)
      tracker.trained = True
      return tracker
    from spm_jax import config_file  # pylint: disable=import-outside-toplevel
    config = config_file.get_config('spm_alexnet', 'runlocal')  # configs/spm_alexnet.py
    return cls(config, models.init_variables(config, jax.random.key(config.seed)))

  @property
  def initialized(self):
    return self._template is not None

  def _geometry(self, frame, center, side, out_size):
    fill = image_io.frame_mean(frame)
    crop, origin, scale = crop_ops.crop_square_by(self._procedure.crop_sampling, frame, center,
                                                  side, out_size, fill)
    # Host (NumPy) values: the jitted step takes them in one transfer.
    geometry = step_ops.CropGeometry(np.asarray(origin, np.float32), np.float32(scale),
                                     np.array([frame.shape[1], frame.shape[0]], np.float32))
    return crop, geometry

  def init(self, frame, box):
    """Starts tracking the object in ``box`` (x, y, w, h) of ``frame``."""
    check_frame(frame)
    x, y, w, h = check_box(box, frame.shape)
    m = self.config.model
    center = np.array([x + w / 2, y + h / 2])
    size = step_ops.template_crop_size(self.config)  # the release: the search size
    side = crop_ops.context_side((w, h), m.context_amount)
    if size != m.template_size:
      side = side * size / m.template_size
    crop, geometry = self._geometry(frame, center, side, size)
    scale = float(geometry.scale)
    c = size / 2.0
    z_box = np.array([c - w * scale / 2, c - h * scale / 2, c + w * scale / 2, c + h * scale / 2],
                     np.float32)
    self._template = self._template_fn(self.variables, jnp.asarray(crop), jnp.asarray(z_box))
    state = step_ops.as_state(center, (w, h))
    if self._procedure.state_clamp == 'release':  # the release starts from the box as given
      self._state = jax.device_get(state)
    else:
      self._state = jax.device_get(
          step_ops.clamp_state(state, geometry.frame_size, self.config.tracking.min_size))
    self.last_outputs = None

  def set_box(self, box):
    """Moves the tracked state to ``box`` (x, y, w, h frame pixels), keeping the template.

    The next ``update`` searches around this box, as if the tracker had
    predicted it (re-detection by another component, ground-truth-guided
    analyses such as :mod:`spm_jax.analysis.recall`). Not clamped to a frame.
    """
    if self._template is None:
      raise RuntimeError('Tracker.set_box() called before Tracker.init(frame, box)')
    x, y, w, h = check_box(box, None)
    self._state = step_ops.TrackState(np.array([x + w / 2, y + h / 2], np.float32),
                                      np.array([w, h], np.float32))

  def update(self, frame):
    """Tracks into ``frame``; returns ``(box, score)``, box (x, y, w, h) float64."""
    if self._template is None:
      raise RuntimeError('Tracker.update() called before Tracker.init(frame, box)')
    check_frame(frame)
    m = self.config.model
    size = np.asarray(self._state.size)
    side = crop_ops.context_side(size, m.context_amount) * m.search_size / m.template_size
    crop, geometry = self._geometry(frame, np.asarray(self._state.center), side, m.search_size)
    batched = getattr(self._track_fn, 'batched', None)
    if batched is None:  # a user-supplied track_fn
      self._state, outputs = self._track_fn(self.variables, self._template, jnp.asarray(crop),
                                            self._state, geometry)
      self.last_outputs = jax.device_get(outputs)
    else:
      # One transfer back for state and outputs; the state stays on the host.
      state, outputs = jax.device_get(batched(self.variables, self._template, crop,
                                              self._state, geometry))
      self._state = step_ops.TrackState(state.center[0], state.size[0])
      self.last_outputs = {k: v[0] for k, v in outputs.items()}
    return np.asarray(self.last_outputs['box'], np.float64), float(self.last_outputs['score'])
