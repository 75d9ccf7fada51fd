# One image for all five asielketen services; APP picks the service (a uvicorn app factory), PORT its port:
#   docker run -e APP=intake.entrypoints.app:create_app -e PORT=8001 asielketen
# Apps: intake | placement | procedure | repatriation | history  .entrypoints.app:create_app
#
# Two stages: the first installs the project into a virtualenv, the second gets only that virtualenv. So the
# source tree, tests and pip's work files never end up in a layer of the final image (a `rm` in a later
# layer would hide them, not remove them). The dependencies of pyproject.toml all ship manylinux wheels for
# CPython 3.11, so the slim base image needs no compiler. No key, database or token is in the image: the
# token key set comes in at run time (AUTH_JWKS_PATH, a mounted secret), and .dockerignore keeps data/ out.
# The container runs as uid 10001 and writes nothing outside ASIELKETEN_DATA_DIR (only on SQLite), so it
# also runs with a read-only root filesystem (deploy/k8s does that).
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
# The simulator too: `asielketen simulate` can then drive a staging stack from the same image.
COPY simulator ./simulator
RUN python -m venv /opt/asielketen \
    && /opt/asielketen/bin/pip install --no-cache-dir . \
    && find /opt/asielketen -name '__pycache__' -prune -exec rm -rf {} +

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/asielketen/bin:$PATH \
    ASIELKETEN_DATA_DIR=/app/data \
    PORT=8000

RUN groupadd --system --gid 10001 asielketen \
    && useradd --system --uid 10001 --gid asielketen --home-dir /app --create-home --shell /usr/sbin/nologin asielketen
COPY --from=build /opt/asielketen /opt/asielketen

WORKDIR /app
USER 10001:10001

EXPOSE 8000-8004

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)" || exit 1

# sh -c so $APP and $PORT are expanded at run time; exec so uvicorn is PID 1 and receives SIGTERM directly.
CMD ["sh", "-c", "exec uvicorn --factory \"${APP:?set APP, e.g. intake.entrypoints.app:create_app}\" --host 0.0.0.0 --port \"${PORT}\" --no-access-log"]
