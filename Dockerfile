# syntax=docker/dockerfile:1
# The `streamcore` image: one image for every role (worker, snapshots, api, setup, produce);
# the Helm chart (helm/streamcore) picks the role with the first argument.
#
#   docker build -t streamcore:0.1.0 .
#   docker run --rm streamcore:0.1.0 --help
#
# To bake an application's config directory and module code into an image (the chart's
# config.source=image / modules.source=image), build FROM this one:
#
#   FROM streamcore:0.1.0
#   COPY config/  /etc/streamcore/config/
#   COPY modules/ /etc/streamcore/modules/

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: install the package into a virtualenv; compilers stay in this stage ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Only used when a dependency has no wheel for this platform (C extensions).
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/streamcore
ENV PATH=/opt/streamcore/bin:$PATH
WORKDIR /src
# Dependencies first, so a code-only change reuses this layer: the locked versions
# (requirements.lock, made by scripts/lock), every file checked against its hash.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY streamcore/ streamcore/
# streamcore/schemas links to the top-level schemas/, which the wheel carries.
COPY schemas/ schemas/
RUN pip install --no-deps . \
 && streamcore --help >/dev/null

# --- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="streamcore" \
      org.opencontainers.image.description="DP³'s entity-profile processing on Apache Kafka and Apache Cassandra" \
      org.opencontainers.image.licenses="MIT"
# tini as PID 1: forwards SIGTERM to streamcore (which then finishes its batch and commits)
# and reaps children; a bare Python PID 1 ignores signals it installs no handler for.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# The chart runs as 10001:10001 with a read-only root filesystem (only /tmp is writable).
RUN groupadd --system --gid 10001 streamcore \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/streamcore --create-home \
      --shell /usr/sbin/nologin streamcore \
 && mkdir -p /etc/streamcore/config /etc/streamcore/modules
COPY --from=build /opt/streamcore /opt/streamcore
ENV PATH=/opt/streamcore/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMCORE_METRICS__PORT=9100
USER 10001:10001
WORKDIR /home/streamcore
# 9100: /metrics, /healthz, /readyz of every role; 5000: the API.
EXPOSE 9100 5000
ENTRYPOINT ["tini", "--", "streamcore"]
CMD ["--help"]
