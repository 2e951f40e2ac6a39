"""Networks of SPM-Tracker: backbone, CM head, FM head, and their assembly."""

import jax
import jax.numpy as jnp

from spm_jax.models.backbone import AlexNet, local_response_norm
from spm_jax.models.cm_head import CMHead
from spm_jax.models.fm_head import FMHead
from spm_jax.models.geometry import anchor_offset, crop_geometry, model_anchors, score_size, valid_size
from spm_jax.models.mobilenet import MobileNetV2
from spm_jax.models.spm import SPM, backbone_name


def build_model(config, **kwargs):
  """The :class:`SPM` module of a full config (``config.model`` is used)."""
  return SPM(config.model, **kwargs)


def init_variables(config, rng, num_proposals=None):
  """Random Flax variables (``params`` and ``batch_stats``) for ``config``.

  Args:
    config: full config (``get_config()`` of ``configs/``).
    rng: a ``jax.random`` key.
    num_proposals: K used for the dummy input (any K gives the same variables).

  Returns:
    dict of variable collections.
  """
  m = config.model
  k = num_proposals or config.tracking.num_candidates
  z = jnp.zeros((1, m.template_size, m.template_size, 3), jnp.float32)
  x = jnp.zeros((1, m.search_size, m.search_size, 3), jnp.float32)
  z_box = jnp.array([[32.0, 32.0, 96.0, 96.0]], jnp.float32)
  proposals = jnp.tile(jnp.array([[[100.0, 100.0, 170.0, 170.0]]], jnp.float32), (1, k, 1))
  variables = jax.jit(build_model(config).init)(rng, z, z_box, x, proposals)
  return dict(variables)
