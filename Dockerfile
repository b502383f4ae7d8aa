# palsy-screen bot: runtime only (ONNX Runtime, no TensorFlow), non-root, read-only-root friendly.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY deploy/install-runtime.sh deploy/
COPY model model
COPY db db
COPY bot bot
RUN sh deploy/install-runtime.sh /opt/venv /src

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --home-dir /data palsy \
    && mkdir /data && chown palsy:palsy /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PALSY_DATA_DIR=/data \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# The running bot refreshes a heartbeat file; checking it costs nothing (no model load).
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["palsy-bot", "--alive"]
ENTRYPOINT ["palsy-bot"]
