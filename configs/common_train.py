"""The training section shared by the SPM-Tracker training configs (paper sec. 4.2).

``add_training(config, ...)`` adds, to a config holding ``model`` and
``tracking`` (``configs/spm_alexnet.py``), the keys read by
``spm_jax/train/``: data, schedule, optimizer, loss, FM sampling, checkpoints
and logging. Every number is the paper's where it gives one, else the source
is named. Single fields are overridden on the command line, e.g.
``--config.total_steps=1000 --config.batch_size=16``.
"""

import ml_collections
from ml_collections import config_dict

from spm_jax.data import pipeline


def add_training(config, *, batch_size=64, input_kind='pipeline', generalized=True):
  """Adds the training keys to ``config`` (in place) and returns it.

  Args:
    config: a config with ``model`` and ``tracking`` sections.
    batch_size: global batch (pairs a step over all hosts and devices). The
      paper does not give it; 64 is ours (pysot uses 128 on 8 GPUs).
    input_kind: 'pipeline' (``spm_jax.data.pipeline``) or 'fake'
      (``spm_jax.train.fake_data``, tests and benchmarks).
    generalized: generalized training of the CM stage (sec. 3.2, table 2).
  """
  # ------------------------------------------------------------------ data ---
  config.input_kind = input_kind
  config.batch_size = batch_size
  d = config.data = pipeline.default_data_config()  # pair sampling and labels (sec. 4.2).
  d.batch_size = config.get_ref('batch_size')  # the loader's batch = global / hosts (trainer).
  d.generalized = generalized  # sec. 3.2: same-category objects are CM positives.
  config.prepare_data = False  # build the tfds datasets first (only for procedural ones).

  # -------------------------------------------------------------- schedule ---
  config.num_epochs = 50  # sec. 4.2: "We train the network for 50 epochs".
  # d.pairs_per_epoch = 160_000 (sec. 4.2) is in the data section.
  # Steps of the run; None: num_epochs * data.pairs_per_epoch // batch_size
  # (spm_jax.train.trainer.finalize_config fills it after command-line overrides).
  config.total_steps = config_dict.placeholder(int)

  # ------------------------------------------------------------- optimizer ---
  lr = config.lr = ml_collections.ConfigDict()
  lr.base = 1e-2  # sec. 4.2: "decreased from 1e-2 to 1e-4".
  lr.final = 1e-4  # sec. 4.2; log-space decay as pysot's SiamRPN ("LR: log").
  lr.warmup_epochs = 5  # pysot siamrpn_alex: 5 warm-up epochs of 50.
  lr.warmup_steps = config_dict.placeholder(int)  # None: from warmup_epochs.
  lr.warmup_init = 5e-3  # pysot siamrpn_alex: warm-up from 0.005.
  o = config.optimizer = ml_collections.ConfigDict()
  o.name = 'sgd'  # sec. 4.2 "standard SGD"; 'adamw' (ours) for short runs from scratch.
  o.momentum = 0.9  # sec. 4.2 "standard SGD"; pysot momentum 0.9.
  o.nesterov = False
  o.weight_decay = 1e-4  # pysot 1e-4 (kernels only).
  o.grad_clip = 10.0  # pysot GRAD_CLIP 10.
  o.frozen = ()  # regexes over parameter paths, e.g. ('backbone/conv1/.*',).
  # ((regex, factor), ...): update multipliers, e.g. (('backbone/.*', 0.1),) (big_vision).
  o.lr_mults = ()
  # Converted backbone msgpack, 'imagenet_mobilenet_v2' (spm_jax.models.pretrained), None: random.
  config.init_backbone = config_dict.placeholder(str)
  # Every parameter and BatchNorm statistic from an exported model, an embedded
  # model's name or a training run (its latest checkpoint), shapes checked:
  # fine-tuning. Replaces init_backbone; step and optimizer start afresh.
  config.init_from = config_dict.placeholder(str)

  # ------------------------------------------------------------------ loss ---
  loss = config.loss = ml_collections.ConfigDict()
  loss.weights = (1.0, 2.0, 1.0, 1.0)  # eq. (1): lambda1..4 (sec. 4.2).
  loss.smooth_l1_beta = 1.0  # Fast R-CNN smooth L1 [15].
  # The CM stage's (unit-weight deltas); None: smooth_l1_beta.
  loss.cm_smooth_l1_beta = config_dict.placeholder(float)

  # ------------------------------------------------------ FM training set ---
  f = config.fm_train = ml_collections.ConfigDict()
  f.pre_nms_top_n = 256  # sec. 4.2: "the CM stage produces hundreds of candidate boxes" (ours).
  f.nms_iou = 0.75  # release: training proposals NMS at 0.75.
  f.post_nms_top_n = 64  # candidates kept after NMS (ours; >= num_samples).
  f.num_samples = 48  # sec. 4.2: "48 boxes are selected to train the FM stage".
  f.positive_fraction = 0.5  # sec. 4.2: "positive-negative ratio is set to 1 : 1".
  f.pos_iou = 0.5  # sec. 4.2: IoU > 0.5 positive.
  f.neg_iou = 0.5  # sec. 4.2: IoU < 0.5 negative.
  f.num_jitter = 24  # jittered instance boxes filling the positive half (ours).
  f.jitter = 0.1  # their centre/size jitter (ours).
  f.min_size = 4.0  # candidates with a side below this (px) are dropped (ours).
  f.fill_negatives = True  # Faster R-CNN: negatives fill empty positive slots.
  # The N best-scoring negative candidates are drawn first (sec. 3.1 "hard
  # negative mining"; 0: uniformly at random, as Faster R-CNN).
  f.hard_negatives = 0

  # -------------------------------------------------- checkpoints and logs ---
  config.checkpoint_every = 1000  # steps.
  config.keep_checkpoints = 3  # last N kept.
  config.log_every = 50  # steps between metric records.
  return config

