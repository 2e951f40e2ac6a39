r"""SPM-Tracker trained from scratch on the procedural synthetic videos, on a CPU.

The model and tracking sections are ``configs/spm_alexnet.py:runlocal`` (narrow
widths, same layers, same crop sizes); the training section is
``configs/common_train.py`` (the paper's sec. 4.2 numbers) with a short run.
Differences from the paper's setting, all for a 2-core CPU:

* BatchNorm backbone trained from scratch (no ImageNet weights offline);
* ungrouped convolutions: XLA's CPU backward pass of grouped convolutions is
  about 3x slower (the groups are a two-GPU artefact of the original AlexNet);
* batch 8, 300 steps (3 epochs of 800 pairs), warm-up 30 steps.

Train (builds the dataset into ``--config.data.data_dir`` first). Expected
time, estimated and not yet measured end to end: 8 to 10 minutes on 2 CPU
cores, since one step of batch 8 at 271 takes about 1.5 s there. The
``runlocal`` run's total loss falls from about 2.4 to about 0.5 within 300 steps
on ``fake`` pairs (tests/test_train_run.py)::

  python scripts/train.py --config configs/synthetic.py --workdir /tmp/spm_synth \
      --config.data.data_dir=/tmp/tfds

Variants (comma separated after the file name, e.g.
``configs/synthetic.py:variant=cm_only,gt=False``):

* ``variant``: 'series_parallel' (default), 'series' or 'cm_only' (table 1);
  'series' and 'series_parallel' train alike, they differ when tracking;
  'cm_only' trains the CM stage alone (SiamRPN).
* ``gt``: generalized training of the CM stage (table 2), default True.
* ``k``: FM candidates when tracking (fig. 6a), default 9.
* ``fm_head``: 'relation' (default) or 'xcorr', the FM stage comparing
  template and proposal features by depthwise cross-correlation instead of
  the relation network (sec. 5.3).
* ``fm_features``: FM feature taps joined by '+', default 'conv4+conv2'
  (sec. 4.1); 'conv4' is the single-layer ablation of sec. 5.3.
* ``runlocal``: a tiny run for CI (search crop 175, batch 2, 8 steps).
"""

from configs import common_train
from configs import spm_alexnet


def get_config(arg=None):
  """Returns the config; see the module docstring for ``arg``."""
  arg = spm_alexnet.parse_arg(arg, variant='series_parallel', gt=True, k=9, fm_head='relation',
                              fm_features='conv4+conv2', runlocal=False)
  config = spm_alexnet.get_config(f'variant={arg.variant},runlocal=True')

  # ---------------------------------------------------------------- model ---
  config.model.backbone.norm = 'batchnorm'  # from scratch: no pretrained LRN weights.
  config.model.backbone.groups = (1, 1, 1, 1, 1)  # CPU speed (module docstring).
  config.tracking.num_candidates = arg.k  # fig. 6a: K.
  if arg.fm_head not in ('relation', 'xcorr'):
    raise ValueError(f"fm_head must be 'relation' or 'xcorr', got {arg.fm_head!r}")
  config.model.fm.head = arg.fm_head  # sec. 5.3: relation network vs cross-correlation.
  config.model.fm.features = tuple(arg.fm_features.split('+'))  # sec. 5.3: conv2 + conv4 vs one.

  # ------------------------------------------------------------- training ---
  common_train.add_training(config, batch_size=8, generalized=arg.gt)
  config.data.videos = ('spm_synthetic_videos/tiny',)
  config.data.pairs_per_epoch = 800
  config.prepare_data = True  # procedural: built locally on first use, nothing downloaded.
  config.num_epochs = 3
  config.lr.warmup_steps = 30
  config.checkpoint_every = 100
  config.log_every = 10
  if arg.variant == 'cm_only':
    config.loss.weights = (1.0, 2.0, 0.0, 0.0)  # table 1 "CM only": no FM stage.

  if arg.runlocal:
    config.model.search_size = 175  # 7x7 score map; same layers.
    config.batch_size = 2
    config.data.pairs_per_epoch = 16
    config.num_epochs = 1
    config.total_steps = 8
    config.lr.warmup_steps = 2
    config.fm_train.pre_nms_top_n = 64
    config.fm_train.post_nms_top_n = 16
    config.fm_train.num_samples = 16
    config.fm_train.num_jitter = 8
    config.checkpoint_every = 2
    config.log_every = 1
  return config
