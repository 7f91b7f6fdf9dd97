# The prediction service in a container. Build after `make repro` (the image holds the
# workspace model, verified against dvc.lock at start):
#   docker build -t churn-serve .
#   docker run --rm -p 8000:8000 -v churn-logs:/app/logs churn-serve
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached layer), exactly the pinned, hash-checked versions: the
# runtime lock (the same pins as requirements.lock, without the dev tools and extras).
COPY requirements-runtime.lock ./
RUN pip install --require-hashes -r requirements-runtime.lock

COPY pyproject.toml README.md ./
COPY src/ src/
RUN pip install --no-deps --no-build-isolation .

# The model and what the service reports about it; dvc.lock is what the model is checked
# against, dvc.yaml names the model, decision and metrics files.
COPY params.yaml dvc.yaml dvc.lock ./
# The problem file: the request schema, the words of the API and its metrics.
COPY problems/ problems/
COPY metrics/ metrics/
COPY models/model.joblib models/model.joblib
# The decision threshold the service applies (checked to belong to this model).
COPY models/decision.json models/decision.json

# Run as an unprivileged user; only the prediction log folder is writable.
RUN useradd --create-home --uid 10001 churn \
    && mkdir -p /app/logs \
    && chown churn:churn /app/logs
USER churn
VOLUME ["/app/logs"]
EXPOSE 8000

# The slim image has no curl: probe /health with the standard library.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]

CMD ["python", "-m", "churn.serve", "--host", "0.0.0.0", "--port", "8000"]
