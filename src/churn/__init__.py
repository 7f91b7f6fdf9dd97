"""churn: a reproducible, data-versioned customer-churn pipeline.

The subpackages follow the data flow, one per pipeline stage, each with its
stage entry point in ``__main__.py`` (``python -m churn.<stage>``, run by
``dvc repro``):

    collect -> validate -> clean -> explore
                                 -> featurize -> split -> train -> evaluate -> explain
                                                                           -> gate
                                                                           -> report
    serve (the prediction service)

``core`` is the base they all stand on (the data contract, typed params, errors,
deterministic I/O, model artifacts, the decision file, figures and HTML);
``features`` is the feature engineering that training and serving share;
``experiments`` is developer tooling (comparing runs in pull requests, ranking
experiments), apart from the pipeline.
"""

import os
import platform

__version__ = "0.1.0"

# Bit-for-bit reproducible models on every x86-64 machine. OpenBLAS picks its kernels
# by processor at load time, and its AVX-512 kernels sum in another order than the
# AVX2 ones: the same training data gave models that differ in the 13th digit (and so
# in every hash downstream) on an AVX-512 machine. Every entry point imports this
# package before numpy, so the AVX2 kernels are chosen everywhere; a value the machine
# already sets (some set one to avoid kernels that are broken on their processor) wins.
if platform.machine().lower() in ("x86_64", "amd64"):
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

# OpenMP threads (LightGBM, HistGradientBoosting) sleep while they wait instead of
# spinning. Spinning threads fight every other process for the cores: on a shared
# 2-core machine (load average 3.6) a LightGBM fit on 2 threads took 27 s spinning and
# 3.7 s sleeping (1 thread: 3.3 s). Read when the OpenMP runtime loads, so set here,
# before any entry point imports numpy, scikit-learn or LightGBM.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
