"""Training metrics to TensorBoard event files and a JSONL file.

``WORKDIR/tensorboard/`` holds event files (``tensorboard --logdir WORKDIR``)
written with ``tensorboardX`` (no TensorFlow needed); ``WORKDIR/metrics.jsonl``
one JSON object a record (``{"step": s, "total": ..., ...}``). When
``tensorboardX`` is not installed only the JSONL file is written (a warning is
logged). Only process 0 writes.
"""

import json
import logging
import os

logger = logging.getLogger(__name__)


class MetricWriter:
  """Scalar writer to TensorBoard events and ``metrics.jsonl``.

  Args:
    workdir: run folder.
    enabled: False on hosts other than process 0.
    resume_step: the step a run starts from: records of later steps in an
      existing ``metrics.jsonl`` (written after the checkpoint that a killed or
      interrupted run resumes from) are dropped, since those steps run again.
  """

  def __init__(self, workdir, enabled=True, resume_step=None):
    self.enabled = enabled
    self._tb = None
    self._jsonl = None
    if not enabled:
      return
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, 'metrics.jsonl')
    if resume_step is not None and os.path.exists(path):
      _drop_records_after(path, resume_step)
    self._jsonl = open(path, 'a', encoding='utf-8')
    try:
      import tensorboardX  # pylint: disable=import-outside-toplevel
      self._tb = tensorboardX.SummaryWriter(os.path.join(workdir, 'tensorboard'))
    except ImportError:
      logger.warning('tensorboardX is not installed: metrics go to metrics.jsonl only')

  def write_scalars(self, step, scalars):
    """Writes ``{name: float}`` at ``step``."""
    if not self.enabled:
      return
    scalars = {k: float(v) for k, v in scalars.items()}
    self._jsonl.write(json.dumps({'step': int(step), **scalars}) + '\n')
    self._jsonl.flush()
    if self._tb is not None:
      for k, v in scalars.items():
        self._tb.add_scalar(k, v, int(step))
      self._tb.flush()

  def close(self):
    if self._jsonl is not None:
      self._jsonl.close()
    if self._tb is not None:
      self._tb.close()


def _drop_records_after(path, step):
  """Rewrites ``metrics.jsonl`` without the records past ``step`` (and a cut last line)."""
  kept, dropped = [], 0
  with open(path, encoding='utf-8') as f:
    for line in f:
      if not line.strip():
        continue
      try:
        record = json.loads(line)
      except ValueError:  # A line cut by a kill.
        dropped += 1
        continue
      if record.get('step', 0) <= step:
        kept.append(json.dumps(record) + '\n')
      else:
        dropped += 1
  if dropped:
    logger.info('metrics.jsonl: dropped %d records past step %d (those steps run again)',
                dropped, step)
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
      f.writelines(kept)
    os.replace(path + '.tmp', path)


def read_jsonl(path):
  """All records of a ``metrics.jsonl`` file as a list of dicts."""
  with open(path, encoding='utf-8') as f:
    return [json.loads(line) for line in f if line.strip()]
