"""AlexNet with padding kept (paper sec. 4.1), as in the authors' release.

Padding keeps the feature maps pixel-aligned with the input: feature cell ``j``
of the stride-8 maps is centred on input pixel ``8 j``, which RoI pooling of the
FM stage relies on. A 271x271 search crop gives 34x34 maps from ``conv2`` on,
a 127x127 template 16x16.

Layers (release): conv1 11x11/2 pad 5 -> ReLU -> maxpool 3/2 pad 1 -> LRN;
conv2 5x5 pad 2 groups 2 -> ReLU -> maxpool 3/2 pad 1 -> LRN; conv3 3x3;
conv4 3x3 groups 2; conv5 3x3 groups 2 (all pad 1, ReLU). With
``norm='batchnorm'`` a BatchNorm replaces each LRN and follows conv3..conv5
(pre-ReLU), for training from scratch.
"""

from typing import Any, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from spm_jax.ops.conv import cpu_friendly_conv


def local_response_norm(x, size=5, alpha=1e-4, beta=0.75, k=1.0):
  """Across-channel LRN with PyTorch's definition.

  ``y_c = x_c / (k + alpha / size * sum_{c' in window(c)} x_{c'}^2) ** beta``,
  the window being ``size`` channels centred on ``c`` (zero-padded).

  Args:
    x: [..., C] features.

  Returns:
    [..., C] normalised features.
  """
  sq = jnp.square(x)
  pad = [(0, 0)] * (x.ndim - 1) + [(size // 2, (size - 1) // 2)]
  window = (1,) * (x.ndim - 1) + (size,)
  summed = jax.lax.reduce_window(sq, 0.0, jax.lax.add, window, (1,) * x.ndim, pad)
  return x / jnp.power(k + alpha / size * summed, beta)


def _max_pool(x):
  return nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))


class AlexNet(nn.Module):
  """Padded AlexNet returning every conv block's output.

  Attributes:
    channels: output channels of conv1..conv5.
    groups: feature groups of conv1..conv5.
    norm: 'lrn' (the release's inference network) or 'batchnorm'.
    lrn: LRN parameters (size, alpha, beta, k).
    bn_axis_name: pmap axis over which BatchNorm statistics are averaged when
      training ('batch' inside the pmap-ed train step), None elsewhere.
    dtype: computation dtype.
  """
  channels: Sequence[int] = (96, 256, 384, 384, 256)
  groups: Sequence[int] = (1, 2, 1, 2, 2)
  norm: str = 'lrn'
  lrn: Any = None
  bn_axis_name: Optional[str] = None
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train=False):
    """Runs the backbone.

    Args:
      x: [B, S, S, 3] normalised image crops.
      train: BatchNorm uses batch statistics (only with norm='batchnorm').

    Returns:
      dict ``conv1``..``conv5`` of [B, h, w, c] maps; conv1 at stride 4, the
      others at stride 8 (S = 271 -> 34x34, S = 127 -> 16x16).
    """
    if self.norm not in ('lrn', 'batchnorm'):
      raise ValueError(f"backbone norm must be 'lrn' or 'batchnorm', got {self.norm!r}")
    lrn = dict(self.lrn or {})
    use_bn = self.norm == 'batchnorm'

    def norm(y, name):
      if use_bn:
        return nn.BatchNorm(use_running_average=not train, axis_name=self.bn_axis_name if train else None,
                            momentum=0.9, dtype=self.dtype, name=name)(y)
      return local_response_norm(y, **lrn)

    kernels = (11, 5, 3, 3, 3)
    strides = (2, 1, 1, 1, 1)
    out = {}
    for i, (c, g, k, s) in enumerate(zip(self.channels, self.groups, kernels, strides)):
      name = f'conv{i + 1}'
      x = nn.Conv(c, (k, k), strides=(s, s), padding=k // 2, feature_group_count=g,
                  conv_general_dilated=cpu_friendly_conv, dtype=self.dtype, name=name)(x)
      if i < 2:
        x = _max_pool(nn.relu(x))
        x = norm(x, f'{name}_bn')
      else:
        if use_bn:
          x = norm(x, f'{name}_bn')
        x = nn.relu(x)
      out[name] = x
    return out
