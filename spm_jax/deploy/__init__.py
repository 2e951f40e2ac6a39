"""Deployment: the tracking step exported as StableHLO and ONNX, and trackers that run it.

:mod:`spm_jax.deploy.exporter` writes the files (``scripts/export_model.py
--format stablehlo|onnx``); :mod:`spm_jax.deploy.runtime` runs them behind the
:class:`~spm_jax.tracking.Tracker` API; :mod:`spm_jax.deploy.compare` checks
them against the JAX tracker frame by frame. jax2onnx and onnxruntime (the
``export`` extra) are imported only when ONNX is written or run.
"""
