"""Fine matching (FM) stage: regional features and a relation network (sec. 3.3).

For each of the K proposals of the CM stage, 6x6 regional features are pooled
from two backbone taps (conv4, 384 ch, and conv2, 256 ch, in the release's
numbering: 640 ch) and concatenated with the template box's own regional
features (1280 ch). A small relation network -- a conv (3x3 in the release,
1x1 in the paper's text), two fully connected layers of 256 and two heads --
gives a 2-way score and 4 box deltas per proposal.

``head='xcorr'`` is the ablation of sec. 5.3: the template and proposal
features are compared by a fixed cross-correlation instead (see
:func:`depthwise_xcorr_same`) and the same conv, fully connected layers and
heads read the correlation map instead of the concatenated features.
"""

import functools
from typing import Any, Optional, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

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


def conv_same_by_taps(x, kernel):
  """Stride-1 'SAME' convolution as one matmul per kernel tap.

  Each tap ``(i, j)`` multiplies only the input window that lands inside the
  output (the zero padding is never multiplied), and the per-tap products are
  added into place. On the small 6x6 regional grids this does 256 / 324 of a
  padded conv's FLOPs for a 3x3 kernel, as plain GEMMs, and is ~25 % faster than
  ``lax.conv_general_dilated`` on XLA:CPU. Same sums as the padded conv up to
  float rounding.

  Args:
    x: [N, H, W, C] inputs.
    kernel: [kh, kw, C, O] (HWIO), odd sides; padding ``kh // 2``, ``kw // 2``.

  Returns:
    [N, H, W, O].
  """
  kh, kw = kernel.shape[:2]
  n, h, w, _ = x.shape
  out = jnp.zeros((n, h, w, kernel.shape[-1]), jnp.result_type(x, kernel))
  for i in range(kh):
    for j in range(kw):
      dy, dx = i - kh // 2, j - kw // 2
      y0, y1 = max(0, -dy), h - max(0, dy)  # output rows whose input row is inside
      x0, x1 = max(0, -dx), w - max(0, dx)
      if y1 <= y0 or x1 <= x0:
        continue
      src = x[:, y0 + dy:y1 + dy, x0 + dx:x1 + dx]
      out = out.at[:, y0:y1, x0:x1].add(jnp.einsum('nyxc,co->nyxo', src, kernel[i, j]))
  return out


@functools.lru_cache(maxsize=None)
def _shift_tensor(h, w):
  """[h w, h w, h w] 0/1: ``S[q, p, r] = 1`` iff input cell ``q`` is under kernel cell
  ``r`` for output cell ``p`` of a 'SAME' correlation (:func:`depthwise_xcorr_same`).

  Separable: along each axis, input ``a`` is under kernel ``i`` for output ``o``
  iff ``a = o + i - (n - 1) // 2``; the 2-D tensor is the product of the two.
  """
  def axis(n):
    a, o, i = np.ogrid[:n, :n, :n]
    return (a == o + i - (n - 1) // 2).astype(np.float32)  # [input, output, kernel]
  return np.einsum('aoi,bpj->abopij', axis(h), axis(w)).reshape(h * w, h * w, h * w)


def depthwise_xcorr_same(x, z):
  """Per-channel cross-correlation of equal-size maps, 'SAME' output size.

  ``out[b, k, y, x, c] = sum_{i, j} xp[b, k, y + i, x + j, c] * z[b, i, j, c] / (h w)``
  with ``xp`` the proposal map zero-padded by ``(h - 1) // 2`` before and
  ``h - 1 - (h - 1) // 2`` after (likewise for the width): the template map
  slides over the proposal map as a depthwise kernel (SiamRPN++'s DW-XCorr),
  over every shift that keeps some overlap in the output grid. Divided by the
  number of kernel cells so its scale does not grow with the pooled size.

  Computed as two contractions: each template map becomes the banded matrix
  ``T[q, p]`` (input cell ``q``, output cell ``p``; ``z`` scattered through the
  constant 0/1 tensor of :func:`_shift_tensor`) and the ``K`` proposals of a
  pair are one ``[K, h w] x [h w, h w]`` product per channel. Forward and
  backward are then GEMMs; 36 shifted multiply-adds instead were 4x slower in
  the backward pass on XLA:CPU, which fused their slices into every consumer.

  Args:
    x: [B, K, h, w, C] proposal features.
    z: [B, 1, h, w, C] template features shared by the ``K`` proposals, or
      [B, K, h, w, C], one per proposal.

  Returns:
    [B, K, h, w, C] correlation maps; ``out[..., (h - 1) // 2, (w - 1) // 2, :]``
    is the zero-shift correlation ``sum_ij x * z / (h w)``.
  """
  b, k, h, w, c = x.shape
  if z.shape[0] != b or z.shape[1] not in (1, k) or z.shape[2:] != x.shape[2:]:
    raise ValueError(f'depthwise_xcorr_same: template shape {z.shape} does not match proposals '
                     f'{x.shape} (want [B, 1 or K, h, w, C])')
  if z.shape[1] != 1:  # one template per proposal: each proposal is its own "pair".
    x, z = x.reshape(b * k, 1, h, w, c), z.reshape(b * k, 1, h, w, c)
  dtype = jnp.result_type(x, z)
  shifts = jnp.asarray(_shift_tensor(h, w) / (h * w), dtype)
  t = jnp.einsum('qpr,brc->bcqp', shifts, z.reshape(z.shape[0], h * w, c).astype(dtype))
  out = jnp.einsum('bkqc,bcqp->bkpc', x.reshape(x.shape[0], x.shape[1], h * w, c).astype(dtype), t)
  return out.reshape(b, k, h, w, c)


class FMHead(nn.Module):
  """Regional feature extraction + relation network.

  Attributes:
    features: names of the backbone taps, concatenated in this order.
    feature_norm: BatchNorm on each tap before pooling (release).
    pool: 'crop_and_resize' (release) or 'roi_align'.
    pool_size: side of the pooled grid (6).
    stride: feature stride of the taps (8).
    feature_strides: per-tap strides, in the order of ``features`` (None:
      ``stride`` for every tap).
    conv_channels: output channels of the relation conv (256).
    conv_kernel: its kernel size (3 in the release, 1 in the paper's text).
    hidden: width of the fully connected layers (256).
    num_fc: number of fully connected layers (2).
    head: 'relation' (the paper: conv over the concatenated template and
      proposal features) or 'xcorr' (sec. 5.3 ablation: conv over their
      depthwise cross-correlation, :func:`depthwise_xcorr_same`).
    bn_axis_name: pmap axis for BatchNorm statistics in training.
    dtype: computation dtype.
  """
  features: Sequence[str] = ('conv4', 'conv2')
  feature_norm: bool = True
  pool: str = 'crop_and_resize'
  pool_size: int = 6
  stride: int = 8
  feature_strides: Optional[Sequence[int]] = None
  conv_channels: int = 256
  conv_kernel: int = 3
  hidden: int = 256
  num_fc: int = 2
  head: str = 'relation'
  bn_axis_name: Any = None
  dtype: Any = jnp.float32

  def setup(self):
    if self.head not in ('relation', 'xcorr'):
      raise ValueError(f"fm.head must be 'relation' or 'xcorr', got {self.head!r}")
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
    strides = tuple(self.feature_strides or (self.stride,) * len(self.features))
    for i, name in enumerate(self.features):
      f = taps[name]
      if self.feature_norm:
        f = self.norms[i](f, use_running_average=not train)
      pooled.append(pool_regions(f, boxes, method=self.pool, output_size=self.pool_size,
                                 stride=strides[i]))
    return jnp.concatenate(pooled, axis=-1)

  def _relation_params(self):
    p = self.relation_conv.variables['params']
    return jnp.asarray(p['kernel'], self.dtype), jnp.asarray(p['bias'], self.dtype)

  def template_term(self, z_regions):
    """The template's share of the relation conv, to cache per target.

    The relation conv sees ``concat([z, x])``, so it is the sum of a conv of
    the template features (the same for every proposal and every frame) and a
    conv of the proposal features. This returns the first sum, bias included.

    Args:
      z_regions: [B, Kz, s, s, Cz] template-box features (Kz = 1 or K).

    Returns:
      [B, Kz, s, s, conv_channels] pre-activation conv outputs.
    """
    kernel, bias = self._relation_params()
    cz = z_regions.shape[-1]
    z = z_regions.astype(self.dtype)
    y = conv_same_by_taps(z.reshape((-1,) + z.shape[2:]), kernel[:, :, :cz])
    return y.reshape(z.shape[:2] + y.shape[1:]) + bias

  def relation(self, z_regions, x_regions, z_term=None):
    """Scores and box deltas of proposals against the template.

    Args:
      z_regions: [B, 1, s, s, C] template-box features (broadcast over K) or
        [B, K, s, s, C]; unused when ``z_term`` is given.
      x_regions: [B, K, s, s, C] proposal features.
      z_term: optional cached :meth:`template_term` of ``z_regions``
        ([B, 1 or K, s, s, conv_channels]).

    Returns:
      cls_logits: [B, K, 2] (background, foreground) logits.
      deltas: [B, K, 4] dx, dy, dw, dh relative to each proposal, scaled by
        the delta weights (5, 5, 10, 10).
    """
    b, k = x_regions.shape[:2]
    if self.head == 'xcorr':
      y = depthwise_xcorr_same(x_regions.astype(self.dtype), z_regions.astype(self.dtype))
      y = y.reshape((b * k,) + y.shape[2:])
      if self.is_initializing():  # creates relation_conv's parameters
        y = self.relation_conv(y)
      else:  # the same conv by taps: 3x faster backward than nn.Conv's on the 6x6 grids.
        kernel, bias = self._relation_params()
        y = conv_same_by_taps(y, kernel) + bias
    elif self.is_initializing():  # creates relation_conv's parameters
      z_regions = jnp.broadcast_to(z_regions, x_regions.shape)
      y = jnp.concatenate([z_regions, x_regions], axis=-1)
      y = self.relation_conv(y.reshape((b * k,) + y.shape[2:]))
    else:
      # conv(concat([z, x])) = conv_z(z) + conv_x(x): the template part once.
      if z_term is None:
        z_term = self.template_term(z_regions)
      kernel, _ = self._relation_params()
      cx = x_regions.shape[-1]
      x = x_regions.astype(self.dtype)
      y = conv_same_by_taps(x.reshape((b * k,) + x.shape[2:]), kernel[:, :, -cx:])
      y = y.reshape((b, k) + y.shape[1:]) + z_term
    y = nn.relu(y).reshape(b, k, -1)
    for fc in self.fcs:
      y = nn.relu(fc(y))
    return self.cls(y), self.box(y)
