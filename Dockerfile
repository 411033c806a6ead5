# Build stage: compile wheels with the toolchain; the final stage gets only the installed environment.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir \
       --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 xsell
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/migrations /app/migrations
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
USER xsell
WORKDIR /app
EXPOSE 8000
CMD ["xsell", "api"]
