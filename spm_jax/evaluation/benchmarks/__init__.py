"""One loader module per tracking benchmark, on the shared ``base`` types.

Modules: ``base`` (``Sequence``, ``Dataset``, ``DatasetNotFoundError``, the
``Layout`` each loader names in its errors, frame listing), ``otb`` (OTB-2013 /
50 / 100 and any folder in OTB layout), ``vot`` (VOT 2016-2018 and the
polygon <-> box conversions), ``lasot``, ``got10k``, ``trackingnet`` and
``uav`` (UAV123 / UAV20L). :mod:`spm_jax.evaluation.datasets` gathers them
and builds a benchmark by name.
"""
