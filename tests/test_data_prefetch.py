"""ThreadPrefetch: same items in the same order, exact checkpoint positions, errors in place."""

import json
import threading
import time

import grain
import numpy as np
import pytest

from spm_jax.data import prefetch


class Counter:
  """0, 1, 2, ... with JSON-bytes state (like a grain DataLoader iterator); optional failure."""

  def __init__(self, fail_at=None, delay=0.0):
    self.i = 0
    self.fail_at = fail_at
    self.delay = delay
    self.calls = 0

  def __iter__(self):
    return self

  def __next__(self):
    self.calls += 1
    time.sleep(self.delay)
    if self.fail_at is not None and self.i == self.fail_at:
      self.i += 1
      raise KeyError(f'record {self.fail_at} is unreadable')
    self.i += 1
    return self.i - 1

  def get_state(self):
    return json.dumps({'i': self.i}).encode()

  def set_state(self, state):
    self.i = json.loads(state)['i']


@pytest.mark.parametrize('size', [1, 3])
def test_same_items_in_the_same_order(size):
  it = prefetch.ThreadPrefetch(Counter(), size=size)
  assert [next(it) for _ in range(20)] == list(range(20))
  it.close()


@pytest.mark.parametrize('size', [1, 4])
def test_state_is_the_position_after_the_last_item_handed_out(size):
  inner = Counter(delay=0.001)
  it = prefetch.ThreadPrefetch(inner, size=size)
  assert json.loads(it.get_state()) == {'i': 0}  # before the first next()
  for k in range(1, 8):
    next(it)
    time.sleep(0.01)  # let the thread run ahead
    assert json.loads(it.get_state()) == {'i': k}
  assert inner.i > 7  # it did run ahead
  it.close()


def test_set_state_drops_the_items_made_ahead():
  it = prefetch.ThreadPrefetch(Counter(), size=2)
  for _ in range(5):
    next(it)
  saved = it.get_state()
  after = [next(it) for _ in range(4)]
  assert after == [5, 6, 7, 8]
  it.set_state(saved)
  assert [next(it) for _ in range(4)] == after
  it.close()


def _producers():
  return [t for t in threading.enumerate() if t.name == 'spm_jax-prefetch']


def test_no_thread_until_the_first_item():
  before = len(_producers())
  inner = Counter()
  it = prefetch.ThreadPrefetch(inner, size=2)
  it.set_state(json.dumps({'i': 10}).encode())  # what a restore does before training
  assert inner.calls == 0 and len(_producers()) == before
  assert next(it) == 10
  assert len(_producers()) == before + 1
  it.close()
  assert len(_producers()) == before


def test_an_error_is_raised_where_it_happened():
  it = prefetch.ThreadPrefetch(Counter(fail_at=3), size=2)
  assert [next(it) for _ in range(3)] == [0, 1, 2]
  with pytest.raises(KeyError, match='record 3 is unreadable'):
    next(it)
  assert next(it) == 4  # the iterator goes on after the bad record, as the wrapped one does
  it.close()


def test_stop_iteration_ends_the_loop():
  it = prefetch.ThreadPrefetch(iter(range(3)), size=2)
  assert list(it) == [0, 1, 2]


def test_size_must_be_positive():
  with pytest.raises(ValueError, match='prefetch size must be >= 1, got 0'):
    prefetch.ThreadPrefetch(Counter(), size=0)


def _loader():
  """A shuffled, endless grain DataLoader of [2]-batches, like the training pipeline."""
  return grain.DataLoader(
      data_source=np.arange(50), operations=[grain.transforms.Batch(2, drop_remainder=True)],
      sampler=grain.samplers.IndexSampler(num_records=50, shuffle=True, seed=3, num_epochs=None,
                                          shard_options=grain.sharding.NoSharding()),
      worker_count=0)


def test_grain_state_resumes_a_fresh_loader_where_the_prefetcher_was():
  it = prefetch.ThreadPrefetch(iter(_loader()), size=3)
  first = [next(it) for _ in range(7)]
  saved = it.get_state()
  rest = [next(it) for _ in range(5)]
  it.close()
  plain = iter(_loader())  # reference: the loader without prefetching
  expected = [next(plain) for _ in range(12)]
  np.testing.assert_array_equal(np.stack(first + rest), np.stack(expected))
  fresh = iter(_loader())
  fresh.set_state(saved)
  np.testing.assert_array_equal(np.stack([next(fresh) for _ in range(5)]), np.stack(rest))
