# palsy-screen bot: runtime only (ONNX Runtime, no TensorFlow), non-root, read-only-root friendly.
#
# The base image is pinned by digest (the multi-platform index of python:3.11-slim, Python
# 3.11.15 on Debian trixie, built 2026-08-05; read from docker-library/repo-info,
# repos/python/remote/3.11-slim.md). To move to a newer build:
#   docker buildx imagetools inspect python:3.11-slim   (the "Digest:" line)
# and replace the digest in both FROM lines. Python packages: deploy/requirements.lock.

FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY deploy/install-runtime.sh deploy/requirements.lock deploy/
COPY model model
COPY db db
COPY bot bot
RUN sh deploy/install-runtime.sh /opt/venv /src

FROM python:3.11-slim@sha256:90744cff8f32887f075c47d747a173ff333e9e98801667af93c357fa9f5e28ff
RUN useradd --system --uid 10001 --no-create-home --home-dir /data palsy \
    && mkdir /data && chown palsy:palsy /data
COPY --from=build /opt/venv /opt/venv
# The heartbeat in the container's own /tmp: replicas that share the /data volume must not share
# it (a live replica would make a hung one look healthy).
ENV PATH=/opt/venv/bin:$PATH \
    PALSY_DATA_DIR=/data \
    PALSY_HEARTBEAT_FILE=/tmp/palsy-heartbeat \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# The running bot refreshes a heartbeat file; checking it costs nothing (no model load).
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["palsy-bot", "--alive"]
ENTRYPOINT ["palsy-bot"]
