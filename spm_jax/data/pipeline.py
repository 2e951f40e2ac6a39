"""The training input pipeline: tfds data sources -> pairs -> fixed-shape batches.

``make_loader`` returns a ``grain.DataLoader``: an ``IndexSampler`` over
``pairs_per_epoch`` indices (shuffled, endless, seeded), a ``RandomMap`` that
turns an index into one training pair (sampler + crops + labels, with the
per-record generator grain derives from the seed and the position in the
stream) and a ``Batch``. Its iterator's ``get_state()`` / ``set_state()`` is
what a checkpoint holds: a resumed run continues with the same batches.
``worker_count`` > 0 runs the pair making in that many worker processes.

One batch (B = ``batch_size``, S = score size 19, A = 5 anchors, K =
``max_category_boxes``) holds NumPy arrays:

* ``template``: [B, 127, 127, 3] uint8 RGB; ``search``: [B, 271, 271, 3] uint8 RGB.
* ``template_box``: [B, 4] float32 x1, y1, x2, y2 of the template object in
  template-crop pixels (for the FM stage's template RoI).
* ``target_box``: [B, 4] float32 x1, y1, x2, y2 of the template's own
  instance in search-crop pixels; 0 when ``has_target`` is False.
* ``has_target``: [B] bool, the pair is same-instance (the FM stage has a
  positive only then).
* ``category_boxes``: [B, K, 4] float32 x1, y1, x2, y2 (search-crop pixels) of
  the CM positive boxes -- every visible object of the template's category in
  the search image, the instance included -- padded with 0;
  ``category_mask``: [B, K] bool.
* ``cls_label``: [B, S, S, A] int8 in {1, 0, -1}; ``reg_target``:
  [B, S, S, A, 4] float32 dx, dy, dw, dh; ``reg_weight``: [B, S, S, A]
  float32 (1 at kept positives). See :mod:`spm_jax.data.labels`.
* ``pair_type``: [B] int32 (0 same-instance, 1 same-category, 2 different).
* ``undecodable``: [B] int32, pairs drawn and dropped before this one because
  an image did not decode (the trainer logs their running total).
"""

import logging

import grain
import ml_collections
import numpy as np

from spm_jax.data import crops, image_io, index, labels, sampler
from spm_jax.ops import boxes as box_ops
from spm_jax.models import geometry

logger = logging.getLogger(__name__)


def default_data_config():
  """The ``config.data`` block with its defaults (sources in comments)."""
  c = ml_collections.ConfigDict()
  c.data_dir = ml_collections.FieldReference(None, field_type=str)  # tfds data_dir; None: tfds default.
  c.videos = ('spm_synthetic_videos/tiny',)  # tfds 'name/config' of video datasets.
  c.stills = ()  # still-image datasets, e.g. ('spm_coco_stills/train2017',).
  c.batch_size = 32
  c.pairs_per_epoch = 160_000  # sec. 4.2: 160,000 pairs an epoch.
  c.video_weight = 4.0  # sec. 4.2: videos : stills = 4 : 1.
  c.still_weight = 1.0
  c.pair_type_weights = (2.0, 1.0, 1.0)  # sec. 4.2: same-instance : same-category : different.
  c.max_frame_gap = 100  # pysot / mmtracking SiamRPN frame_range 100.
  c.max_tries = 10  # draws before a pair type falls back (ours).
  c.generalized = True  # sec. 3.2: same-category objects are CM positives.
  c.cm_pos_iou = 0.6  # sec. 4.2.
  c.cm_neg_iou = 0.3  # sec. 4.2.
  # Each positive box's highest-IoU anchors are positive too (ours: Faster
  # R-CNN's RPN rule; spm_jax.data.labels.cm_labels).
  c.cm_best_anchor = False
  c.cm_num_anchors = 48  # release: 48 anchors a pair (0 keeps all).
  c.cm_positive_fraction = 0.5  # release: half foreground.
  c.max_category_boxes = 8  # K, padding of category_boxes (ours).
  c.gray = 0.2  # grayscale probability for the whole pair (mmtracking siamese_rpn SeqGrayAug).
  # Per-crop augmentations: pysot siamrpn_alex / mmtracking siamese_rpn values.
  c.template_aug = ml_collections.ConfigDict(dict(
      shift=4.0, scale=0.05, flip=0.0, color=1.0, blur=0.0, color_std=0.1))
  c.search_aug = ml_collections.ConfigDict(dict(
      shift=64.0, scale=0.18, flip=0.0, color=1.0, blur=0.2, color_std=0.1,
      log_scale=False))  # True: size factors uniform in log space (ours; crops.crop_frame).
  c.worker_count = 0  # grain worker processes (0: in the main process).
  c.worker_buffer_size = 2
  # Batches made ahead in a background thread while the step runs (ours; 0:
  # none). spm_jax.data.prefetch; checkpoints keep the exact position.
  c.prefetch = 1
  return c


def score_size(model_config):
  """Score-map side (``spm_jax.models.geometry``; 19 for 271 / 127 with AlexNet)."""
  return geometry.score_size(model_config)


def model_anchors(model_config):
  """[S, S, A, 4] cx, cy, w, h search-crop anchors of ``config.model``."""
  return geometry.model_anchors(model_config)


def _object(example, track):
  """Row of ``track`` in an example -> (x, y, w, h) box."""
  rows = np.flatnonzero(example['track_ids'] == track)
  if rows.size == 0:
    raise KeyError(f'track {track} not in record {example["video_name"]!r}')
  return example['boxes'][rows[0]]


def _xywh_to_xyxy(boxes):
  b = np.asarray(boxes, np.float32).reshape(-1, 4)
  return np.concatenate([b[:, :2], b[:, :2] + b[:, 2:]], -1)


class PairMaker(grain.transforms.RandomMap):
  """grain RandomMap: pair index -> one training pair dict (see module docstring)."""

  def __init__(self, sources, indexes, data_config, model_config):
    self.sources = list(sources)
    self.data = data_config
    self.model = model_config
    self.sampler = sampler.PairSampler(
        indexes, data_config.video_weight, data_config.still_weight,
        tuple(data_config.pair_type_weights), data_config.max_frame_gap, data_config.max_tries)
    self.anchors = model_anchors(model_config)

  def _read(self, spec):
    src = self.sources[spec.source]
    t_ex, s_ex = src[spec.template_record], src[spec.search_record]
    t_img = image_io.decode_image(t_ex['image'])
    s_img = t_img if spec.search_record == spec.template_record else image_io.decode_image(s_ex['image'])
    return t_ex, s_ex, t_img, s_img

  def random_map(self, element, rng):
    del element  # The pair is drawn from rng alone.
    for failures in range(100):
      spec = self.sampler.sample(rng)
      t_ex, s_ex, t_img, s_img = self._read(spec)
      if t_img is not None and s_img is not None:
        pair = make_pair(spec, t_ex, s_ex, t_img, s_img, self.anchors, self.data, self.model, rng)
        pair['undecodable'] = np.int32(failures)  # counted in the batch: workers are processes.
        return pair
      logger.warning('skipping a pair: an image of records %d/%d of source %d does not decode',
                     spec.template_record, spec.search_record, spec.source)
    raise RuntimeError('100 pairs in a row had images that do not decode')


def make_pair(spec, t_ex, s_ex, t_img, s_img, anchors, data, model, rng):
  """Crops, augments and labels one pair.

  Args:
    spec: the :class:`spm_jax.data.sampler.PairSpec`.
    t_ex, s_ex: template and search examples (:mod:`spm_jax.data.features`).
    t_img, s_img: their decoded [H, W, 3] uint8 RGB images.
    anchors: [S, S, A, 4] cx, cy, w, h search-crop anchors.
    data, model: ``config.data`` and ``config.model``.
    rng: numpy Generator.

  Returns:
    A dict of the per-pair arrays listed in the module docstring.
  """
  tz, sx = model.template_size, model.search_size
  t_box = _object(t_ex, spec.template_track)
  side_z = float(box_ops.context_side(t_box[2], t_box[3], model.context_amount))
  template, t_frame = crops.make_crop(t_img, t_box, tz, side_z, rng, dict(data.template_aug, gray=0.0))
  s_box = _object(s_ex, spec.search_track)
  side_x = float(box_ops.context_side(s_box[2], s_box[3], model.context_amount)) * sx / tz
  search, s_frame = crops.make_crop(s_img, s_box, sx, side_x, rng, dict(data.search_aug, gray=0.0))
  if rng.uniform() < data.gray:
    template = np.repeat(np.mean(template, -1, keepdims=True), 3, -1).astype(np.uint8)
    search = np.repeat(np.mean(search, -1, keepdims=True), 3, -1).astype(np.uint8)

  boxes = s_frame.boxes_to_crop(_xywh_to_xyxy(s_ex['boxes']))
  t_name = t_ex['categories'][np.flatnonzero(t_ex['track_ids'] == spec.template_track)[0]]
  same_cat = np.asarray([c == t_name for c in s_ex['categories']], bool)
  instance = np.zeros(len(boxes), bool)
  if spec.pair_type == sampler.SAME_INSTANCE:
    instance = s_ex['track_ids'] == spec.template_track
  visible = np.asarray(s_ex['visible'], bool)
  if data.generalized:
    positive = (same_cat | instance) & visible
    ignore = same_cat & ~visible
  else:
    positive, ignore = instance & visible, np.zeros(len(boxes), bool)
  cls, reg, weight = labels.cm_labels(anchors, boxes[positive], boxes[ignore],
                                      data.cm_pos_iou, data.cm_neg_iou,
                                      data.get('cm_best_anchor', False))
  cls, weight = labels.subsample(cls, weight, rng, data.cm_num_anchors, data.cm_positive_fraction)
  reg = reg * weight[..., None]

  k = data.max_category_boxes
  cat_boxes = np.zeros((k, 4), np.float32)
  cat_mask = np.zeros(k, bool)
  pos_boxes = boxes[positive][:k]
  cat_boxes[:len(pos_boxes)] = pos_boxes
  cat_mask[:len(pos_boxes)] = True
  has_target = bool(instance.any())
  target = boxes[instance][0] if has_target else np.zeros(4, np.float32)
  return {
      'template': template,
      'search': search,
      'template_box': t_frame.boxes_to_crop(_xywh_to_xyxy(t_box))[0],
      'target_box': target.astype(np.float32),
      'has_target': np.bool_(has_target),
      'category_boxes': cat_boxes,
      'category_mask': cat_mask,
      'cls_label': cls,
      'reg_target': reg.astype(np.float32),
      'reg_weight': weight,
      'pair_type': np.int32(spec.pair_type),
  }


class IndexSource:
  """grain data source of the integers 0..n-1 (the pair's position)."""

  def __init__(self, n):
    self.n = int(n)

  def __len__(self):
    return self.n

  def __getitem__(self, i):
    return np.int64(i)

  def __repr__(self):
    return f'IndexSource({self.n})'


def load_sources(data_config):
  """tfds data sources and their kinds named by ``config.data.videos`` / ``.stills``."""
  from spm_jax.data import prepare  # pylint: disable=import-outside-toplevel
  out = []
  for kind, names in (('video', data_config.videos), ('still', data_config.stills)):
    for name in names:
      out.append((prepare.load_source(name, data_config.data_dir), kind))
  return out


def make_loader(data_config, model_config, sources=None, seed=0, shard_options=None):
  """A grain DataLoader of training batches.

  Args:
    data_config: ``config.data`` (:func:`default_data_config`).
    model_config: ``config.model`` (template/search size, context, stride, anchors).
    sources: list of ``(data_source, kind)`` with kind 'video' or 'still';
      default :func:`load_sources`.
    seed: ``config.seed``: fixes the pair order, the pairs and their augmentations.
    shard_options: grain sharding (e.g. ``grain.sharding.ShardByJaxProcess()``).

  Returns:
    ``grain.DataLoader``; ``iter(loader)`` yields batch dicts of NumPy arrays.
  """
  if sources is None:
    sources = load_sources(data_config)
  indexes = [index.build_index(src, kind) for src, kind in sources]
  maker = PairMaker([src for src, _ in sources], indexes, data_config, model_config)
  return grain.DataLoader(
      data_source=IndexSource(data_config.pairs_per_epoch),
      sampler=grain.samplers.IndexSampler(
          num_records=data_config.pairs_per_epoch, shuffle=True, seed=seed, num_epochs=None,
          shard_options=shard_options or grain.sharding.NoSharding()),
      operations=[maker, grain.transforms.Batch(data_config.batch_size, drop_remainder=True)],
      worker_count=data_config.worker_count,
      worker_buffer_size=data_config.worker_buffer_size)
