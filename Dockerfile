# One image for all five asielketen services; APP picks the service (a uvicorn app factory), PORT its port:
#   docker run -e APP=intake.entrypoints.app:create_app -e PORT=8001 asielketen
# Apps: intake | placement | procedure | repatriation | history  .entrypoints.app:create_app
# The dependencies of pyproject.toml all ship manylinux wheels for CPython 3.11, so the slim base image needs
# no compiler. The source tree is only needed while pip installs it, so it is copied to /tmp and removed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000

COPY . /tmp/src
RUN pip install --no-cache-dir /tmp/src \
    && rm -rf /tmp/src \
    && groupadd --system --gid 10001 asielketen \
    && useradd --system --uid 10001 --gid asielketen --home-dir /app --create-home --shell /usr/sbin/nologin asielketen

WORKDIR /app
USER asielketen:asielketen

EXPOSE 8000-8004

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)" || exit 1

# sh -c so $APP and $PORT are expanded at run time; exec so uvicorn is PID 1 and receives SIGTERM directly.
CMD ["sh", "-c", "exec uvicorn --factory \"${APP:?set APP, e.g. intake.entrypoints.app:create_app}\" --host 0.0.0.0 --port \"${PORT}\""]
