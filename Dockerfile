# syntax=docker/dockerfile:1
# The xsell image: one image for `xsell api`, `worker`, `scheduler`, `dashboard` and `migrate`.
# Build: docker build -t xsell:0.1.0 .      Run: docker run --env-file .env xsell:0.1.0 api
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Builder: compilers, the wheel, and every dependency installed into /opt/venv.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The toolchain builds any dependency without a wheel for the target platform; it never reaches the final image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN pip install --upgrade pip
# PyTorch from its CPU index first: the same version on PyPI pulls several GB of CUDA libraries.
# Keep the version equal to the torch pin in pyproject.toml.
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-deps --wheel-dir /wheels . \
    && pip install /wheels/xsell-*.whl \
    && pip check

# Final: the slim Python image, the virtual environment, the migrations and an unprivileged user.
FROM ${PYTHON_IMAGE}
# LightGBM links the system's OpenMP runtime (a shared library, not a compiler).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /home/xsell --create-home xsell \
    && install -d -o xsell -g xsell -m 0750 /var/lib/xsell
COPY --from=builder /opt/venv /opt/venv
# `xsell migrate` and every server look for the alembic scripts in the working directory.
WORKDIR /app
COPY alembic.ini ./
COPY migrations ./migrations
# Numba (under SHAP) and Matplotlib write caches; keep them off a read-only root file system.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XSELL_DATA_DIR=/var/lib/xsell \
    XSELL_API_HOST=0.0.0.0 \
    XSELL_API_PORT=8000 \
    NUMBA_CACHE_DIR=/tmp/numba \
    MPLCONFIGDIR=/tmp/matplotlib
USER 10001:10001
EXPOSE 8000
# Liveness of the API, the default command; Compose gives the other commands their own checks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('XSELL_API_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["xsell"]
CMD ["api"]
