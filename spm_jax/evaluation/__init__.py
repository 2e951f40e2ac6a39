"""Benchmark evaluation: loaders, OPE and VOT protocols, metrics, plots.

Modules: ``metrics`` (success / precision / normalized precision), ``datasets``
(the benchmarks by name; one lazy loader module each in ``benchmarks``), ``tables`` (benchmark tables
kept as data: sequence lists, frame ranges, attributes), ``results`` (result-file formats), ``ope``
(one-pass evaluation runner), ``report`` (scores of result folders), ``vot``
(supervised reset protocol and EAO), ``stats`` (paired and two-level
bootstrap), ``comparison`` (result folders as runs, pooled splits,
differences; ``scripts/compare.py``), ``plots`` and ``baselines`` (OpenCV
trackers). Diagnostics beyond the protocol live in :mod:`spm_jax.analysis`.
"""
