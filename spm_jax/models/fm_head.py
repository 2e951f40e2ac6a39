"""Fine matching (FM) stage: regional features and a relation network (sec. 3.3).

For each of the K proposals of the CM stage, 6x6 regional features are pooled
from two backbone taps (conv4, 384 ch, and conv2, 256 ch, in the release's
numbering: 640 ch) and concatenated with the template box's own regional
features (1280 ch). A small relation network -- a conv (3x3 in the release,
1x1 in the paper's text), two fully connected layers of 256 and two heads --
gives a 2-way score and 4 box deltas per proposal.
"""

from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from spm_jax.ops.roi_align import crop_and_resize, roi_align


def pool_regions(features, boxes, *, method, output_size, stride):
  """Pools fixed-size regional features for a batch.

  Args:
    features: [B, H, W, C] feature maps at ``stride``.
    boxes: [B, K, 4] x1, y1, x2, y2 in input-crop pixels.
    method: 'roi_align' or 'crop_and_resize'.
    output_size: side of the pooled grid.
    stride: pixels per feature cell.

  Returns:
    [B, K, output_size, output_size, C].
  """
  size = (output_size, output_size)
  if method == 'roi_align':
    fn = lambda f, b: roi_align(f, b, size, 1.0 / stride, sampling_ratio=2, aligned=True)
  elif method == 'crop_and_resize':
    fn = lambda f, b: crop_and_resize(f, b, size, 1.0 / stride)
  else:
    raise ValueError(f"fm.pool must be 'roi_align' or 'crop_and_resize', got {method!r}")
  return jax.vmap(fn)(features, boxes)


class FMHead(nn.Module):
  """Regional feature extraction + relation network.

  Attributes:
    features: names of the backbone taps, concatenated in this order.
    feature_norm: BatchNorm on each tap before pooling (release).
    pool: 'crop_and_resize' (release) or 'roi_align'.
    pool_size: side of the pooled grid (6).
    stride: feature stride of the taps (8).
    conv_channels: output channels of the relation conv (256).
    conv_kernel: its kernel size (3 in the release, 1 in the paper's text).
    hidden: width of the fully connected layers (256).
    num_fc: number of fully connected layers (2).
    bn_axis_name: pmap axis for BatchNorm statistics in training.
    dtype: computation dtype.
  """
  features: Sequence[str] = ('conv4', 'conv2')
  feature_norm: bool = True
  pool: str = 'crop_and_resize'
  pool_size: int = 6
  stride: int = 8
  conv_channels: int = 256
  conv_kernel: int = 3
  hidden: int = 256
  num_fc: int = 2
  bn_axis_name: Any = None
  dtype: Any = jnp.float32

  def setup(self):
    if self.feature_norm:
      self.norms = [nn.BatchNorm(momentum=0.9, dtype=self.dtype, axis_name=self.bn_axis_name,
                                 name=f'norm_{name}') for name in self.features]
    self.relation_conv = nn.Conv(self.conv_channels, (self.conv_kernel, self.conv_kernel),
                                 padding=self.conv_kernel // 2, dtype=self.dtype)
    self.fcs = [nn.Dense(self.hidden, dtype=self.dtype, name=f'fc{i}') for i in range(self.num_fc)]
    self.cls = nn.Dense(2, dtype=self.dtype)
    self.box = nn.Dense(4, dtype=self.dtype)

  def regions(self, taps, boxes, *, train=False):
    """Regional features of ``boxes``.

    Args:
      taps: dict of [B, H, W, C_i] backbone maps (must hold ``features``).
      boxes: [B, K, 4] x1, y1, x2, y2 in the same crop's pixels.
      train: BatchNorm uses batch statistics.

    Returns:
      [B, K, s, s, sum C_i] pooled features (s = pool_size).
    """
    pooled = []
    for i, name in enumerate(self.features):
      f = taps[name]
      if self.feature_norm:
        f = self.norms[i](f, use_running_average=not train)
      pooled.append(pool_regions(f, boxes, method=self.pool, output_size=self.pool_size,
                                 stride=self.stride))
    return jnp.concatenate(pooled, axis=-1)

  def relation(self, z_regions, x_regions):
    """Scores and box deltas of proposals against the template.

    Args:
      z_regions: [B, 1, s, s, C] template-box features (broadcast over K) or
        [B, K, s, s, C].
      x_regions: [B, K, s, s, C] proposal features.

    Returns:
      cls_logits: [B, K, 2] (background, foreground) logits.
      deltas: [B, K, 4] dx, dy, dw, dh relative to each proposal, scaled by
        the delta weights (5, 5, 10, 10).
    """
    z_regions = jnp.broadcast_to(z_regions, x_regions.shape)
    y = jnp.concatenate([z_regions, x_regions], axis=-1)
    b, k = y.shape[:2]
    y = nn.relu(self.relation_conv(y.reshape((b * k,) + y.shape[2:])))
    y = y.reshape(b, k, -1)
    for fc in self.fcs:
      y = nn.relu(fc(y))
    return self.cls(y), self.box(y)
