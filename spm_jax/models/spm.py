"""The assembled SPM model: shared backbone, CM stage and FM stage (fig. 2).

The model is a Flax module whose methods are the pieces a tracker or a train
step composes; callers go through ``model.apply(variables, ..., method=...)``.
All images are float [B, S, S, 3] RGB in 0..255; the model converts them to the
network's input (BGR minus the channel means, as the release).
"""

from typing import Any

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from spm_jax.models import geometry as geometry_lib
from spm_jax.models import mobilenet
from spm_jax.models.backbone import AlexNet
from spm_jax.models.cm_head import CMHead
from spm_jax.models.fm_head import FMHead

BACKBONES = ('alexnet', 'mobilenet_v2')


def backbone_name(model_config):
  """``model.backbone.name`` ('alexnet' for configs written before the key existed)."""
  name = model_config.backbone.get('name', 'alexnet')
  if name not in BACKBONES:
    raise ValueError(f'model.backbone.name must be one of {BACKBONES}, got {name!r}')
  return name


def tap_strides(model_config, names):
  """Pixels per cell of the backbone maps ``names`` (AlexNet: conv1 4, others 8)."""
  if backbone_name(model_config) == 'mobilenet_v2':
    return tuple(mobilenet.tap_stride(int(n[len('block'):]), model_config.stride) for n in names)
  return tuple(4 if n == 'conv1' else model_config.stride for n in names)


class SPM(nn.Module):
  """SPM-Tracker network.

  Attributes:
    config: the ``model`` ConfigDict of ``configs/spm_alexnet.py`` (or
      ``configs/spm_mobilenet.py``: ``backbone.name`` picks the backbone).
    bn_axis_name: pmap axis name for BatchNorm statistics in training.
    dtype: computation dtype.
  """
  config: ml_collections.ConfigDict
  bn_axis_name: Any = None
  dtype: Any = jnp.float32

  def setup(self):
    c = self.config
    if backbone_name(c) == 'mobilenet_v2':
      self.backbone = mobilenet.MobileNetV2(
          last_block=c.backbone.last_block, output_stride=c.stride, train_bn=c.backbone.train_bn,
          bn_axis_name=self.bn_axis_name, dtype=self.dtype)
    else:
      self.backbone = AlexNet(channels=tuple(c.backbone.channels), groups=tuple(c.backbone.groups),
                              norm=c.backbone.norm, lrn=dict(c.backbone.lrn),
                              bn_axis_name=self.bn_axis_name, dtype=self.dtype)
    # 1x1 conv + BatchNorm from the CM tap to the CM width (pysot's AdjustLayer).
    adjust = c.backbone.get('adjust_channels')
    self.adjust = (mobilenet.ConvBN(adjust, relu6=False, train_bn=True,
                                    bn_axis_name=self.bn_axis_name, dtype=self.dtype)
                   if adjust else None)
    self.cm = CMHead(num_anchors=len(c.anchors.ratios) * len(c.anchors.scales),
                     channels=c.cm.channels, xcorr_scale=c.cm.xcorr_scale, dtype=self.dtype)
    self.fm = FMHead(features=tuple(c.fm.features), feature_norm=c.fm.feature_norm, pool=c.fm.pool,
                     pool_size=c.fm.pool_size, stride=c.stride,
                     feature_strides=tap_strides(c, tuple(c.fm.features)),
                     conv_channels=c.fm.conv_channels,
                     conv_kernel=c.fm.conv_kernel, hidden=c.fm.hidden, num_fc=c.fm.num_fc,
                     head=c.fm.get('head', 'relation'), bn_axis_name=self.bn_axis_name, dtype=self.dtype)

  def normalize(self, images):
    """[B, S, S, 3] RGB 0..255 -> network input: BGR when configured, minus
    ``pixel_mean``, divided by ``pixel_std`` when given (both 0..255 units)."""
    x = jnp.asarray(images, self.dtype)
    if self.config.bgr:
      x = x[..., ::-1]
    x = x - jnp.asarray(self.config.pixel_mean, self.dtype)
    std = self.config.get('pixel_std')
    return x if std is None else x / jnp.asarray(std, self.dtype)

  def embed(self, images, *, train=False):
    """Backbone maps of [B, S, S, 3] RGB crops: dict [B, h, w, c] of conv1..conv5
    (AlexNet) or block0..block{last_block} (MobileNetV2)."""
    return self.backbone(self.normalize(images), train=train)

  def _cm_input(self, feats, crop_size, *, template, train=False):
    """The central window of the CM tap (``spm_jax.models.geometry``) for a
    ``crop_size`` crop, cut from the middle of the map, adjusted."""
    m = self.config
    if template:
      cells = geometry_lib.crop_geometry(m, template_size=crop_size).template_cells
    else:
      cells = geometry_lib.crop_geometry(m, search_size=crop_size).search_cells
    x = feats[m.cm.feature]
    start = (x.shape[1] - cells) // 2
    x = x[:, start:start + cells, start:start + cells]
    return x if self.adjust is None else self.adjust(x, train=train)

  def template(self, z_images, z_boxes, *, train=False, cm_size=None):
    """Everything the tracker caches from the first frame.

    Args:
      z_images: [B, Sz, Sz, 3] RGB template crops (Sz = template_size).
      z_boxes: [B, 4] x1, y1, x2, y2 of the target in template-crop pixels.
      train: BatchNorm uses batch statistics.
      cm_size: the CM kernels come from the central features of a crop of
        this side (default ``Sz``); the release crops the template at the
        search size and reads it as its central template-size region.

    Returns:
      dict ``kernels`` (CM correlation kernels) and ``regions``
      [B, 1, 6, 6, 640] FM features of the template box.
    """
    feats = self.embed(z_images, train=train)
    kernels = self.cm.template(self._cm_input(feats, cm_size or z_images.shape[1], template=True,
                                                train=train))
    regions = self.fm.regions(feats, z_boxes[:, None, :], train=train)
    return {'kernels': kernels, 'regions': regions}

  def relation_template(self, template):
    """``template`` plus ``relation``: the cached template share of the FM conv.

    The tracker calls this once per target so that :meth:`refine` convolves
    only the proposals' features each frame (see
    :meth:`FMHead.template_term`); :meth:`refine` gives the same outputs with
    or without it. With ``fm.head='xcorr'`` nothing is cached (the
    correlation needs the proposal features) and ``template`` comes back.
    """
    if self.config.fm.get('head', 'relation') == 'xcorr':
      return template
    return dict(template, relation=self.fm.template_term(template['regions']))

  def search(self, x_images, template, *, train=False):
    """CM stage on search crops.

    Args:
      x_images: [B, Sx, Sx, 3] RGB search crops (Sx = search_size).
      template: output of :meth:`template`.
      train: BatchNorm uses batch statistics.

    Returns:
      feats: backbone maps of the search crops (for :meth:`refine`).
      cls_logits: [B, 19, 19, k, 2]; deltas: [B, 19, 19, k, 4] (anchor-relative).
    """
    feats = self.embed(x_images, train=train)
    cls_logits, deltas = self.cm.search(
        self._cm_input(feats, x_images.shape[1], template=False, train=train), template['kernels'])
    return feats, cls_logits, deltas

  def refine(self, feats, proposals, template, *, train=False):
    """FM stage on proposals.

    Args:
      feats: search backbone maps from :meth:`search`.
      proposals: [B, K, 4] x1, y1, x2, y2 in search-crop pixels.
      template: output of :meth:`template` (or :meth:`relation_template`).
      train: BatchNorm uses batch statistics.

    Returns:
      cls_logits: [B, K, 2]; deltas: [B, K, 4] (proposal-relative, weighted).
    """
    regions = self.fm.regions(feats, proposals, train=train)
    return self.fm.relation(template['regions'], regions, z_term=template.get('relation'))

  def __call__(self, z_images, z_boxes, x_images, proposals, *, train=False):
    """Both stages on template/search pairs (used to initialise and to train).

    Args:
      z_images: [B, Sz, Sz, 3]; z_boxes: [B, 4] x1, y1, x2, y2 template-crop pixels.
      x_images: [B, Sx, Sx, 3]; proposals: [B, K, 4] x1, y1, x2, y2 search-crop pixels.
      train: BatchNorm uses batch statistics.

    Returns:
      dict ``cm_logits`` [B, 19, 19, k, 2], ``cm_deltas`` [B, 19, 19, k, 4],
      ``fm_logits`` [B, K, 2], ``fm_deltas`` [B, K, 4].
    """
    template = self.template(z_images, z_boxes, train=train)
    feats, cm_logits, cm_deltas = self.search(x_images, template, train=train)
    fm_logits, fm_deltas = self.refine(feats, proposals, template, train=train)
    return {'cm_logits': cm_logits, 'cm_deltas': cm_deltas,
            'fm_logits': fm_logits, 'fm_deltas': fm_deltas}
