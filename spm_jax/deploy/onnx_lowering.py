"""A jaxpr rewritten into primitives that jax2onnx converts to plain ONNX.

jax2onnx (0.17) converts most ``lax`` primitives, but three constructs of the
tracking step do not convert as they stand:

* ``scatter-add`` of a whole window at constant indices (``x.at[:, a:b].add(u)``,
  the FM head's conv by taps): jax2onnx emits a ``Reshape`` that onnxruntime
  rejects. Rewritten as ``x + pad(u)``: the same additions (adding the zero
  padding leaves every other element unchanged, bit for bit).
* ``scatter`` of one element of a 1-D array at a traced index, also under
  ``vmap`` (``alive.at[idx].set(False)`` in NMS): "scatter pattern not
  supported".
  Rewritten as ``where(iota == idx, update, x)``.
* ``gather`` with a batching axis (``vmap`` of ``x[i]``): jax2onnx emits
  wrongly shaped ``GatherND`` nodes. Unrolled over the (static) batch.
* ``select_n`` of booleans (``jnp.where`` on masks): onnxruntime's CPU
  provider has no boolean ``Where``. Rewritten as and / or / not.
* ``reduce_window_max`` / ``reduce_window_sum`` over NHWC (max pool, LRN):
  jax2onnx pools over every axis, a 4-D ``MaxPool`` onnxruntime does not
  run. The axes the window leaves alone are merged first.
* ``gather`` of one window at a traced start (``x[i]``): a ``Reshape`` of
  the wrong size. Rewritten as ``dynamic_slice`` (same clamping).
* ``scan`` with a static length (the NMS loop, ``lax.map``): unrolled, so the
  graph has no ``Loop`` node (simpler for ONNX back ends such as TensorRT).

Nested ``jit`` / ``custom_jvp_call`` / ``custom_vjp_call`` calls are inlined.
Equations whose inputs are all constants (weights, anchor tables, index
arrays) are evaluated once here, so weight-only arithmetic is folded into the
ONNX initializers. Everything else is bound unchanged.
"""

import jax
from jax import lax
import jax.numpy as jnp
from jax.extend import core as jcore
import numpy as np

_INLINE = ('pjit', 'jit', 'closed_call', 'core_call', 'custom_jvp_call', 'custom_vjp_call',
           'custom_vjp_call_jaxpr', 'remat', 'checkpoint')


def _is_const(value):
  return not isinstance(value, jax.core.Tracer)


def _closed(jaxpr):
  """(jaxpr, consts) of a ClosedJaxpr or Jaxpr."""
  if isinstance(jaxpr, jcore.ClosedJaxpr):
    return jaxpr.jaxpr, jaxpr.consts
  return jaxpr, ()


def _sub_jaxpr(eqn):
  for key in ('jaxpr', 'call_jaxpr', 'fun_jaxpr'):
    if key in eqn.params:
      return _closed(eqn.params[key])
  raise NotImplementedError(f'no inner jaxpr in {eqn.primitive.name}')


def _window_scatter_add(operand, indices, updates, params):
  """``operand.at[window].add(updates)`` at constant ``indices`` as pad + add; None if not that."""
  dn = params['dimension_numbers']
  if (not _is_const(indices) or np.ndim(indices) != 1 or dn.inserted_window_dims
      or dn.operand_batching_dims or tuple(dn.update_window_dims) != tuple(range(updates.ndim))
      or updates.ndim != operand.ndim):
    return None
  start = [0] * operand.ndim
  for k, d in enumerate(dn.scatter_dims_to_operand_dims):
    start[d] = int(np.asarray(indices)[k])
  high = [o - s - u for o, s, u in zip(operand.shape, start, updates.shape)]
  if min(start) < 0 or min(high) < 0:  # out of bounds: leave it to the general lowering
    return None
  zero = jnp.zeros((), updates.dtype)
  return operand + lax.pad(updates, zero, [(s, h, 0) for s, h in zip(start, high)])


def _element_scatter(operand, indices, updates, params):
  """``operand.at[..., i].set(u)``, one element per row of leading batch axes.

  The pattern of ``x.at[i].set(u)`` on a 1-D ``x`` (under ``vmap``: batching
  dims leading), rewritten as ``where(iota == i, u, operand)``; None if the
  scatter is anything else.
  """
  dn = params['dimension_numbers']
  nb = operand.ndim - 1
  batch = tuple(range(nb))
  if (tuple(dn.operand_batching_dims) != batch or tuple(dn.scatter_indices_batching_dims) != batch
      or tuple(dn.inserted_window_dims) != (nb,) or dn.update_window_dims
      or tuple(dn.scatter_dims_to_operand_dims) != (nb,)
      or tuple(indices.shape) != operand.shape[:nb] + (1,)
      or tuple(updates.shape) != operand.shape[:nb]):
    return None
  iota = lax.broadcasted_iota(jnp.int32, operand.shape, nb)
  hit = iota == indices.astype(jnp.int32)
  new = jnp.broadcast_to(updates[..., None].astype(operand.dtype), operand.shape)
  if operand.dtype == jnp.bool_:
    return _bool_select(hit, operand, new)
  return lax.select(hit, new, operand)


def _unbatched_gather(operand, indices, params):
  """A gather with one leading batching axis, as one plain gather per batch entry.

  ``vmap`` of ``x[i]`` gives such gathers, which jax2onnx 0.17 lowers to
  wrongly shaped ``GatherND`` nodes; the batch size is static in an ONNX
  export, so the batch is unrolled. None if the gather is anything else.
  """
  dn = params['dimension_numbers']
  if (tuple(dn.operand_batching_dims) != (0,) or tuple(dn.start_indices_batching_dims) != (0,)
      or 0 in dn.offset_dims or 0 in dn.collapsed_slice_dims):
    return None
  inner = lax.GatherDimensionNumbers(
      offset_dims=tuple(int(d) - 1 for d in dn.offset_dims),
      collapsed_slice_dims=tuple(int(d) - 1 for d in dn.collapsed_slice_dims),
      start_index_map=tuple(int(d) - 1 for d in dn.start_index_map))
  inner_params = dict(params, dimension_numbers=inner, slice_sizes=tuple(params['slice_sizes'][1:]))
  return jnp.stack([_gather(operand[b], indices[b], inner_params)
                    for b in range(operand.shape[0])])


def _sliced_gather(operand, indices, params):
  """A gather of one clamped window (``x[i]`` with a traced ``i``) as ``dynamic_slice``.

  jax2onnx 0.17 emits a ``Reshape`` of the wrong size for gathers of one
  window at a 2-element start; ``dynamic_slice`` clamps the start the same way
  as gather mode CLIP. None if the gather is anything else.
  """
  dn = params['dimension_numbers']
  mode = lax.GatherScatterMode.from_any(params['mode'])
  if (indices.ndim != 1 or dn.operand_batching_dims
      or mode not in (lax.GatherScatterMode.CLIP, lax.GatherScatterMode.PROMISE_IN_BOUNDS)):
    return None
  sizes = tuple(params['slice_sizes'])
  kept = [d for d in range(operand.ndim) if d not in dn.collapsed_slice_dims]
  if tuple(dn.offset_dims) != tuple(range(len(kept))):
    return None
  starts = [jnp.zeros((), indices.dtype)] * operand.ndim
  for k, d in enumerate(dn.start_index_map):
    starts[d] = indices[k]
  out = lax.dynamic_slice(operand, starts, sizes)
  return out.reshape(tuple(sizes[d] for d in kept))


def _gather(operand, indices, params):
  """``lax.gather`` with the rewrites above where they apply."""
  for rewrite in (_unbatched_gather, _sliced_gather):
    out = rewrite(operand, indices, params)
    if out is not None:
      return out
  return lax.gather_p.bind(operand, indices, **params)


def _bool_select(which, *cases):
  """``select_n`` of boolean cases as logic (onnxruntime has no boolean ``Where``); else None."""
  if len(cases) != 2 or cases[0].dtype != jnp.bool_ or which.dtype != jnp.bool_:
    return None
  return (~which & cases[0]) | (which & cases[1])


def _merged_window(primitive, operand, params):
  """``reduce_window_{max,sum}`` with the axes its window leaves alone merged into one.

  jax2onnx makes every axis a pooling axis (an NHWC 3x3 max pool becomes a 4-D
  ``MaxPool``, which onnxruntime does not run); with the untouched axes
  (batch, channels) merged in front the pool has at most 3 axes. None when
  nothing needs merging.
  """
  keys = ('window_dimensions', 'window_strides', 'padding', 'base_dilation', 'window_dilation')
  window, strides, pads, base, dil = (tuple(params[k]) for k in keys)
  plain = [d for d in range(operand.ndim) if window[d] == 1 and strides[d] == 1
           and tuple(pads[d]) == (0, 0) and base[d] == 1 and dil[d] == 1]
  moved = [d for d in range(operand.ndim) if d not in plain]
  if len(plain) < 2 or not moved:
    return None
  perm = plain + moved
  x = jnp.transpose(operand, perm)
  lead = x.shape[:len(plain)]
  x = x.reshape((-1,) + x.shape[len(plain):])
  pick = lambda seq, first: (first,) + tuple(seq[d] for d in moved)
  out = primitive.bind(x, window_dimensions=pick(window, 1), window_strides=pick(strides, 1),
                       padding=pick(pads, (0, 0)), base_dilation=pick(base, 1),
                       window_dilation=pick(dil, 1))
  out = out.reshape(lead + out.shape[1:])
  return jnp.transpose(out, np.argsort(perm))


def _unrolled_scan(eqn, args):
  p = eqn.params
  n_consts, n_carry, length = p['num_consts'], p['num_carry'], p['length']
  body, body_consts = _closed(p['jaxpr'])
  consts, carry, xs = args[:n_consts], list(args[n_consts:n_consts + n_carry]), \
      args[n_consts + n_carry:]
  ys = []
  steps = range(length - 1, -1, -1) if p['reverse'] else range(length)
  for i in steps:
    out = evaluate(body, body_consts, *consts, *carry, *[x[i] for x in xs])
    carry, y = out[:n_carry], out[n_carry:]
    ys.append(y)
  if p['reverse']:
    ys = ys[::-1]
  n_ys = len(eqn.outvars) - n_carry
  stacked = [jnp.stack([y[j] for y in ys]) for j in range(n_ys)]
  return list(carry) + stacked


def _apply(eqn, args):
  name = eqn.primitive.name
  if name in _INLINE:
    jaxpr, consts = _sub_jaxpr(eqn)
    return evaluate(jaxpr, consts, *args)
  if name == 'scan':
    return _unrolled_scan(eqn, args)
  if name == 'scatter-add':
    out = _window_scatter_add(*args[:3], eqn.params)
    if out is not None:
      return [out]
  if name in ('reduce_window_max', 'reduce_window_sum'):
    out = _merged_window(eqn.primitive, args[0], eqn.params)
    if out is not None:
      return [out]
  if name == 'select_n':
    out = _bool_select(*args)
    if out is not None:
      return [out]
  if name == 'gather':
    return [_gather(*args[:2], eqn.params)]
  if name == 'scatter':
    out = _element_scatter(*args[:3], eqn.params)
    if out is not None:
      return [out]
  with eqn.ctx.manager:
    out = eqn.primitive.bind(*args, **eqn.primitive.get_bind_params(eqn.params))
  return list(out) if eqn.primitive.multiple_results else [out]


def evaluate(jaxpr, consts, *args):
  """Evaluates ``jaxpr`` with the rewrites of this module; returns the list of outputs."""
  env = {}
  read = lambda v: v.val if isinstance(v, jcore.Literal) else env[v]
  for var, value in zip(jaxpr.constvars, consts):
    env[var] = value
  for var, value in zip(jaxpr.invars, args):
    env[var] = value
  for eqn in jaxpr.eqns:
    ins = [read(v) for v in eqn.invars]
    if all(_is_const(v) for v in ins):
      with jax.ensure_compile_time_eval():
        outs = _apply(eqn, ins)
    else:
      outs = _apply(eqn, ins)
    for var, value in zip(eqn.outvars, outs):
      env[var] = value
  return [read(v) for v in jaxpr.outvars]


def onnx_ready(fn, *specs):
  """``fn`` traced at ``specs`` and re-expressed with the rewrites above.

  Args:
    fn: a function of arrays returning a tuple of arrays.
    specs: ``jax.ShapeDtypeStruct`` of each argument (static shapes).

  Returns:
    a function of the same arguments returning a tuple of arrays, for
    ``jax2onnx.to_onnx``.
  """
  closed = jax.make_jaxpr(fn)(*specs)
  return lambda *args: tuple(evaluate(closed.jaxpr, closed.consts, *args))
