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
  """

  def __init__(self, workdir, enabled=True):
    self.enabled = enabled
    self._tb = None
    self._jsonl = None
    if not enabled:
      return
    os.makedirs(workdir, exist_ok=True)
    self._jsonl = open(os.path.join(workdir, 'metrics.jsonl'), 'a', encoding='utf-8')
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


def read_jsonl(path):
  """All records of a ``metrics.jsonl`` file as a list of dicts."""
  with open(path, encoding='utf-8') as f:
    return [json.loads(line) for line in f if line.strip()]
