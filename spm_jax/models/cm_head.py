"""Coarse matching (CM) stage: the SiamRPN region-proposal head (paper sec. 3.2).

Up-channel cross-correlation, as in SiamRPN and the authors' release: the
template branch turns the central 6x6 template features into correlation
kernels (3x3 conv -> 4x4 kernels with ``channels * 2k`` and ``channels * 4k``
outputs), the search branch maps the central 24x24 search features to 22x22,
and correlating the two gives 19x19 maps of 2k class logits and 4k box deltas
for k anchors (a 1x1 conv refines the deltas).

Channel layouts follow the release so its weights load unchanged: kernel output
channel ``a * channels + c`` is anchor-output ``a``, input channel ``c``; class
logits are laid out ``(2, k)`` (background block, then foreground block) and
deltas ``(4, k)``.
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def center_crop(x, size):
  """Central ``size x size`` window of [B, H, W, C] maps (H, W >= size)."""
  h, w = x.shape[1:3]
  top, left = (h - size) // 2, (w - size) // 2
  return x[:, top:top + size, left:left + size, :]


def xcorr(search, kernel):
  """Cross-correlation of one search map with its own kernels.

  Args:
    search: [h, w, C] search features.
    kernel: [kh, kw, C, O] correlation kernels (HWIO).

  Returns:
    [h - kh + 1, w - kw + 1, O] correlation maps.
  """
  out = jax.lax.conv_general_dilated(search[None], kernel, (1, 1), 'VALID',
                                     dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  return out[0]


def batched_xcorr(search, kernel):
  """:func:`xcorr` of every pair of a batch, each with its own kernels.

  ``jax.vmap(xcorr)`` turns the batch into feature groups of one convolution,
  which XLA:CPU runs as a slow generic loop (64 pairs: ~360 ms instead of
  ~45 ms); a sequential map over the pairs runs the fast dense conv each time.

  Args:
    search: [B, h, w, C] search features.
    kernel: [B, kh, kw, C, O] correlation kernels (HWIO per pair).

  Returns:
    [B, h - kh + 1, w - kw + 1, O].
  """
  if search.shape[0] == 1:
    return xcorr(search[0], kernel[0])[None]
  return jax.lax.map(lambda pair: xcorr(*pair), (search, kernel))


class CMHead(nn.Module):
  """SiamRPN head.

  Attributes:
    num_anchors: k, anchors per score cell.
    channels: correlation channels (256 in the release).
    xcorr_scale: both correlation outputs are multiplied by this (release 1e-3).
    dtype: computation dtype.
  """
  num_anchors: int = 5
  channels: int = 256
  xcorr_scale: float = 1e-3
  dtype: Any = jnp.float32

  def setup(self):
    k, c = self.num_anchors, self.channels
    conv = lambda n, kernel, name: nn.Conv(n, (kernel, kernel), padding='VALID', dtype=self.dtype,
                                           name=name)
    self.z_cls_conv = conv(c * 2 * k, 3, 'z_cls_conv')
    self.z_box_conv = conv(c * 4 * k, 3, 'z_box_conv')
    self.x_cls_conv = conv(c, 3, 'x_cls_conv')
    self.x_box_conv = conv(c, 3, 'x_box_conv')
    self.box_refine = conv(4 * k, 1, 'box_refine')

  def template(self, z):
    """Correlation kernels from the central template features.

    Args:
      z: [B, 6, 6, Cin] central template features.

    Returns:
      dict ``cls`` [B, 4, 4, channels, 2k] and ``box`` [B, 4, 4, channels, 4k]
      (HWIO kernels per pair, already scaled by ``xcorr_scale``).
    """
    def kernels(y, outputs):
      b, kh, kw, _ = y.shape
      y = y.reshape(b, kh, kw, outputs, self.channels)
      return jnp.swapaxes(y, -1, -2) * self.xcorr_scale

    return {'cls': kernels(self.z_cls_conv(z), 2 * self.num_anchors),
            'box': kernels(self.z_box_conv(z), 4 * self.num_anchors)}

  def search(self, x, kernels):
    """Correlates the central search features with the template kernels.

    Args:
      x: [B, 24, 24, Cin] central search features.
      kernels: output of :meth:`template` for the same B.

    Returns:
      cls_logits: [B, 19, 19, k, 2] (background, foreground) logits.
      deltas: [B, 19, 19, k, 4] dx, dy, dw, dh relative to the anchors.
    """
    k = self.num_anchors
    cls = batched_xcorr(self.x_cls_conv(x), kernels['cls'])
    box = self.box_refine(batched_xcorr(self.x_box_conv(x), kernels['box']))
    b, h, w, _ = cls.shape
    cls = jnp.swapaxes(cls.reshape(b, h, w, 2, k), -1, -2)
    box = jnp.swapaxes(box.reshape(b, h, w, 4, k), -1, -2)
    return cls, box

  def __call__(self, z, x):
    return self.search(x, self.template(z))
