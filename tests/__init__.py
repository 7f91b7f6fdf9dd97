"""The test suite.

``churn`` is imported before anything loads numpy, so the tests compute with the
same BLAS kernels as the pipeline's stages (see ``churn/__init__.py``).
"""

import churn  # noqa: F401
