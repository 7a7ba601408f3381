ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE} AS builder
# The builder turns the committed lock into wheels and installs them in a virtualenv without
# pip of its own; the runtime stage copies only that virtualenv: no poetry, no pip, no compilers.

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/poetry \
 && /opt/poetry/bin/pip install --quiet poetry==2.5.1 poetry-plugin-export==1.10.1

WORKDIR /src
# Dependencies first, from the lock alone: this layer is rebuilt only when the lock changes.
# `poetry export` keeps the lock's hashes, so pip refuses any file that is not the locked one.
COPY pyproject.toml poetry.lock README.md ./
RUN /opt/poetry/bin/poetry export --only main --format requirements.txt --output requirements.txt \
 && pip wheel --quiet --wheel-dir /wheels --requirement requirements.txt \
 && python -m venv --without-pip /opt/roomtemp \
 && pip --python /opt/roomtemp/bin/python install --quiet --no-index --find-links /wheels \
        --requirement requirements.txt

COPY roomtemp ./roomtemp
RUN /opt/poetry/bin/poetry build --quiet --format wheel \
 && pip --python /opt/roomtemp/bin/python install --quiet --no-index --no-deps dist/*.whl


FROM ${BASE_IMAGE}

# A user of its own, without a login; its home holds the SQLite file when no database is set.
RUN groupadd --gid 10001 roomtemp \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/roomtemp \
        --shell /usr/sbin/nologin roomtemp \
 && install --directory --owner=roomtemp --group=roomtemp /var/lib/roomtemp
COPY --from=builder /opt/roomtemp /opt/roomtemp

# Production defaults; each can be overridden with `-e`. ROOMTEMP_ADMIN_TOKEN has no default:
# a server listening on every address needs one (or a token created with `roomtemp token`).
ENV PATH=/opt/roomtemp/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ROOMTEMP_HOST=0.0.0.0 \
    ROOMTEMP_PORT=8000 \
    ROOMTEMP_WORKERS=2 \
    ROOMTEMP_DATABASE_URL=sqlite:////var/lib/roomtemp/roomtemp.sqlite3

USER 10001:10001
WORKDIR /var/lib/roomtemp
EXPOSE 8000
# Python, not curl: the image has no curl, and needs none.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('ROOMTEMP_PORT', '8000') + '/healthz', timeout=2)"]
ENTRYPOINT ["roomtemp"]
CMD ["serve"]
