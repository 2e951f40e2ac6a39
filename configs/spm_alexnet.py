r"""SPM-Tracker with the padded AlexNet backbone: the paper's setting.

Every number of the paper lives here once, with the section it comes from; where
the paper is silent the value is the authors' inference release
(microsoft/SPM-Tracker, configs/spm_tracker/alexnet_c42_otb.yaml), noted as
"release".

Variants come as a string after the file name, big_vision style::

  python scripts/track.py --config configs/spm_alexnet.py:variant=cm_only,runlocal ...

* ``variant=series_parallel`` (default): CM + FM fused by eq. (2) (sec. 3.1).
* ``variant=series``: FM re-scores the CM proposals; its score and box alone decide.
* ``variant=cm_only``: SiamRPN, the FM stage is skipped (table 1, "CM only").
* ``runlocal``: narrow widths for a laptop or CI; same architecture and crop sizes.
* ``procedure=release`` (default) or ``procedure=project``: the per-frame
  tracking procedure, the release's frame for frame or this project's own
  (``spm_jax/tracking/procedure.py``, docs/release_procedure.md).
"""

import ml_collections
from ml_collections import config_dict

VARIANTS = ('series_parallel', 'series', 'cm_only')


def parse_arg(arg, **defaults):
  """Parses ``"a=1,b,c=x"`` into a ConfigDict; bare words become ``True``."""
  out = ml_collections.ConfigDict(defaults)
  if not arg:
    return out
  for item in arg.split(','):
    item = item.strip()
    if not item:
      continue
    key, _, value = item.partition('=')
    if key not in out:
      raise ValueError(f'Unknown config argument {key!r}; known: {sorted(out.keys())}')
    if not value:
      out[key] = True
    else:
      out[key] = type(out[key])(value) if not isinstance(out[key], bool) else value.lower() in ('1', 'true', 'yes')
  return out


def get_config(arg=None):
  """Returns the config; ``arg`` selects the variant and ``runlocal``."""
  arg = parse_arg(arg, variant='series_parallel', runlocal=False, procedure='release')
  if arg.variant not in VARIANTS:
    raise ValueError(f'variant must be one of {VARIANTS}, got {arg.variant!r}')
  if arg.procedure not in ('release', 'project'):
    raise ValueError(f"procedure must be 'release' or 'project', got {arg.procedure!r}")

  config = ml_collections.ConfigDict()
  config.seed = 0

  # ---------------------------------------------------------------- model ---
  m = config.model = ml_collections.ConfigDict()
  m.variant = arg.variant
  m.template_size = 127  # sec. 4.1: "the target image has a size of 127x127x3".
  m.search_size = 271  # sec. 4.3: "cropped and resized to 271x271".
  m.context_amount = 0.5  # SiamFC context, release Z_CONTEXT_AMOUNT.
  # Input normalisation (release): BGR order, minus the Caffe means, no scaling.
  m.bgr = True
  m.pixel_mean = (104.0, 117.0, 123.0)  # in the network's channel order (B, G, R).

  # Backbone: AlexNet with padding kept (sec. 4.1), layers of the release.
  m.backbone = ml_collections.ConfigDict()
  m.backbone.channels = (96, 256, 384, 384, 256)  # conv1..conv5 (release).
  m.backbone.groups = (1, 2, 1, 2, 2)  # grouped convs of the original AlexNet (release).
  m.backbone.norm = 'lrn'  # 'lrn' (release, inference) or 'batchnorm' (training from scratch).
  m.backbone.lrn = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)  # release.
  m.stride = 8  # feature stride of conv2..conv5 (sec. 4.1).
  m.receptive_field = 87  # AlexNet conv5 receptive field: valid region = (size - 87) / 8 + 1.

  # CM stage: SiamRPN head (sec. 3.2).
  m.cm = ml_collections.ConfigDict()
  m.cm.channels = 256  # release CM_HEAD_CHANNELS.
  m.cm.feature = 'conv5'  # release FEAT_NAME.
  m.cm.xcorr_scale = 1e-3  # release CM_CLS_SCALE_FACTOR / CM_BBOX_SCALE_FACTOR.
  m.anchors = ml_collections.ConfigDict()
  m.anchors.ratios = (0.33, 0.5, 1.0, 2.0, 3.0)  # sec. 4.3: five anchors (h / w).
  m.anchors.scales = (8.0,)  # release ANCHOR_SCALES.
  m.anchors.base_size = 8  # release (= stride).
  m.anchors.offset = 63.5  # centre of score cell 0 in crop pixels (release).

  # FM stage: RoI features + relation network (sec. 3.3, 4.1).
  m.fm = ml_collections.ConfigDict()
  m.fm.features = ('conv4', 'conv2')  # release FM_FEAT_NAME_LIST: 384 + 256 = 640 ch (sec. 4.1).
  m.fm.feature_norm = True  # release FM_ROI_FEAT_BN: BatchNorm on the tapped maps.
  m.fm.pool = 'crop_and_resize'  # 'crop_and_resize' (release) or 'roi_align' (sec. 3.3).
  m.fm.pool_size = 6  # sec. 4.1: 6x6 regional features.
  m.fm.conv_channels = 256  # release FM_POOL_CONVS.
  m.fm.conv_kernel = 3  # release: 3x3; the paper's text (sec. 3.3) says 1x1.
  m.fm.hidden = 256  # sec. 4.1: "only 256 neurons per layer".
  m.fm.num_fc = 2  # sec. 3.3: two fully connected layers.
  m.fm.head = 'relation'  # 'relation' (sec. 3.3) or 'xcorr' (the sec. 5.3 ablation).
  m.fm.delta_weights = (5.0, 5.0, 10.0, 10.0)  # release FM_BBOX_VAR_INV.
  # Release: boxes measured "+1" (width x2 - x1 + 1) when decoding deltas and in
  # the near test's IoU; anchors one pixel narrower (utils/rpn.py,
  # utils/boxes/delta_transform.py). Weights trained here use False.
  m.box_plus_one = True

  # ------------------------------------------------------------ inference ---
  t = config.tracking = ml_collections.ConfigDict()
  # 'release': the authors' inference procedure frame for frame; 'project': ours.
  # The options below (None: as ``procedure``) pick each difference on its own;
  # spm_jax/tracking/procedure.py lists them, docs/release_procedure.md says
  # what each does.
  t.procedure = arg.procedure
  for option in ('template_crop', 'crop_sampling', 'window_span', 'window_at', 'proposals',
                 'state_clamp'):
    t[option] = config_dict.placeholder(str)
  t.num_candidates = 9  # sec. 4.3: K = 9.
  t.num_near_candidates = 1  # release NUM_NEAR_CANDIDATES.
  # Release near candidate: the best-scoring box among those with IoU > 0.8 with
  # the previous box when there are several; else the box of highest IoU, even
  # below 0.8 (proposals='release'). proposals='project' keeps a near box only
  # when one passes 0.8.
  t.near_iou = 0.8
  t.score_thresh_factor = 0.1  # release: drop scores < 0.1 x max before NMS.
  t.nms_threshold = 0.5  # sec. 4.3: NMS threshold 0.5.
  # Boxes entering NMS with proposals='project' (ours; static shape, >=
  # num_candidates); the release's rules let every anchor's box in.
  t.pre_nms_top_n = 128
  t.fm_score_weight = 0.5  # eq. (2) W_cls (release FM_SCORE_INFLUENCE; sec. 4.3 "around 0.5").
  t.fm_box_weight = 3.0  # eq. (2) W_box (release FM_BBOX_INFLUENCE; sec. 4.3 "2 or 3").
  t.window_influence = 0.5  # cosine window (release WINDOWS_INFLUENCE).
  t.size_lr = 0.5  # size interpolation (release LR, multiplied by the score).
  # Scale / aspect-ratio change penalty exp(-(r_c s_c - 1) k) on the scores and
  # the size update (SiamRPN; pysot PENALTY_K 0.16); the SPM release has none.
  t.penalty_k = 0.0
  # Factor on the chosen box's size before the size update (ours; 1: none, as
  # the release): calibrates a size regression biased to larger boxes. On the
  # procedural videos it removed the drift but lost the target more often
  # (docs/results.md, "Box sizes"), so no config sets it.
  t.size_scale = 1.0
  t.min_score = 0.2  # below it the previous box is kept (release MAX_SCORE_THRESHOLD).
  t.min_size = 10.0  # minimum box side in frame pixels (release).
  t.capacity = 64  # MultiTracker slots: targets advanced by one compiled step (ours).
  # Slots per batch inside that step (ours); None: 1 on CPU, all slots on
  # accelerators (spm_jax/tracking/multi_tracker.py, docs/benchmarks.md).
  t.multi_chunk = config_dict.placeholder(int)

  if arg.runlocal:
    m.backbone.channels = (24, 64, 96, 96, 64)
    m.cm.channels = 64
    m.fm.conv_channels = 64
    m.fm.hidden = 64

  return config
