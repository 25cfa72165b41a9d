# The blog API under gunicorn, as one small image.
#
#   docker build -t blog_api .
#   docker run --rm -p 127.0.0.1:8000:8000 -e BLOG_SECRET_KEY=change-me blog_api
#
# Settings are BLOG_* environment variables (docs/blog_api.md); compose.yaml adds
# PostgreSQL and Redis.
#
# BASE_IMAGE may name another base with Python 3.11 as `python` and `pip` on PATH
# and Debian's useradd. Our machines reach no image registry, so
# tests/integration/test_image.py builds this file unchanged with buildah on a
# Debian 12 base made with debootstrap, and runs it: see docs/deploy.md.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the server needs: no tests, docs or benchmarks (see .dockerignore).
# The sources are installed from /tmp/src and deleted in the same step, so /app
# holds no source tree: the server imports the installed package, templates and
# all, rather than a copy that happens to lie in its working directory.
COPY pyproject.toml README.md /tmp/src/
COPY miniflask/ /tmp/src/miniflask/
COPY blog_api/ /tmp/src/blog_api/
RUN pip install "/tmp/src[deploy]" && rm -rf /tmp/src

WORKDIR /app
COPY gunicorn.conf.py ./

# A system user without a shell or a writable home: a compromised worker can
# write only to instance/ (the SQLite file and the generated secret key).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin blog \
    && mkdir /app/instance \
    && chown blog /app/instance
USER blog

# Inside the container gunicorn must listen on all interfaces; publish the
# port on the host's loopback (or put nginx in front) to control exposure.
ENV GUNICORN_BIND=0.0.0.0:8000 \
    BLOG_INSTANCE_PATH=/app/instance
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/tags', timeout=2)"]

# Bring the schema up to date (blog_api/migrate.py; a no-op when it is, and
# safe when several containers start at once: migrations take a lock), then
# replace the shell with gunicorn (exec), so that gunicorn is PID 1 and gets
# `docker stop`'s SIGTERM: a graceful shutdown.
CMD ["sh", "-c", "python -m blog_api db upgrade && exec gunicorn -c gunicorn.conf.py blog_api.wsgi:app"]
