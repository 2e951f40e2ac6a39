"""Making the next batches in a background thread while the device trains.

The trainer's loop is: take a batch, dispatch the step, wait for its metrics.
With the pair making in the main process (``data.worker_count = 0``, the
setting for a CPU-only machine, where a worker process would fight the step for
the same cores) the input pipeline and the step run one after the other.
:class:`ThreadPrefetch` moves ``next()`` of the wrapped iterator into a thread
that keeps ``size`` batches ready, so the pair making (mostly OpenCV and JPEG
decoding, which release the GIL) overlaps the step.

Checkpoints stay exact: :meth:`ThreadPrefetch.get_state` is the wrapped
iterator's state right after the last batch *handed out*, not after the ones
made ahead, so a run resumed from a checkpoint gets the batches that the
killed run had not trained on yet, the same as without prefetching.
"""

import queue
import threading

_POLL_S = 0.1  # how often a blocked producer checks for a stop request.


class ThreadPrefetch:
  """An iterator that makes the wrapped iterator's next items in a thread.

  Args:
    iterator: any iterator; for checkpoints it must have ``get_state()`` and
      ``set_state(state)`` (a grain ``DataLoader`` iterator,
      :class:`spm_jax.train.fake_data.FakePairs`).
    size: items made ahead (>= 1).

  Exceptions raised by the wrapped iterator (a missing dataset, an
  unreadable record, ``StopIteration``) are raised by ``next()`` in the
  consumer's thread, with their own type and traceback, at the position where
  they occurred.
  """

  def __init__(self, iterator, size=1):
    if int(size) < 1:
      raise ValueError(f'prefetch size must be >= 1, got {size}')
    self._it = iterator
    self._size = int(size)
    self._thread = None
    self._queue = None
    self._stop = None
    self._state = None  # None: nothing handed out since the start or set_state.

  def __iter__(self):
    return self

  def _start(self):
    self._queue = queue.Queue(self._size)
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._produce, args=(self._queue, self._stop),
                                    name='spm_jax-prefetch', daemon=True)
    self._thread.start()

  def _produce(self, out, stop):
    while not stop.is_set():
      try:
        item = next(self._it)
        state = self._it.get_state() if hasattr(self._it, 'get_state') else None
        entry = (item, state, None)
      except BaseException as e:  # pylint: disable=broad-except  # re-raised by __next__
        entry = (None, None, e)
      while not stop.is_set():
        try:
          out.put(entry, timeout=_POLL_S)
          break
        except queue.Full:
          continue
      if entry[2] is not None:
        return

  def __next__(self):
    if self._thread is None:
      if self._state is None and hasattr(self._it, 'get_state'):
        self._state = self._it.get_state()
      self._start()
    item, state, error = self._queue.get()
    if error is not None:
      self._shutdown()
      raise error
    self._state = state
    return item

  def get_state(self):
    """The wrapped iterator's state after the last item ``next()`` returned."""
    if self._state is None:
      return self._it.get_state()
    return self._state

  def set_state(self, state):
    """Drops the items made ahead and moves the wrapped iterator to ``state``."""
    self._shutdown()
    self._it.set_state(state)
    self._state = state

  def start_prefetch(self):
    """Called by grain's checkpoint handler after ``set_state``; forwarded."""
    if hasattr(self._it, 'start_prefetch'):
      self._it.start_prefetch()

  def _shutdown(self):
    if self._thread is None:
      return
    self._stop.set()
    self._thread.join()
    self._thread = self._queue = self._stop = None

  def close(self):
    """Stops the producer thread (the items made ahead are dropped)."""
    self._shutdown()
