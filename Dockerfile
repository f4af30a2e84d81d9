# Podruga's container image (docs/deploy.md, "Docker Compose").
#
#   docker build -t podruga .
#   docker run --rm -it podruga chat --lang uk --country UA     # the terminal chat
#
# Two stages: the first builds the wheel and installs it into a virtual environment,
# the second copies only that environment onto a clean Python image and runs it as a
# user without privileges. Every compiled dependency comes as a manylinux wheel, so
# neither stage needs a compiler; pip stays only as part of the environment.

ARG PYTHON=python:3.11-slim-bookworm

FROM ${PYTHON} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY bot ./bot
COPY flows ./flows
COPY locales ./locales
COPY directory ./directory
# `podruga check` also trains the matcher's models (seconds) and keeps them in
# /opt/podruga/models, which the running image reads: the bot starts without training.
RUN python -m venv /opt/podruga \
    && /opt/podruga/bin/pip install --prefer-binary . \
    && PODRUGA_CACHE=/opt/podruga/models /opt/podruga/bin/podruga check > /dev/null

FROM ${PYTHON}
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/podruga \
        --shell /usr/sbin/nologin podruga \
    && install -d -o podruga -g podruga -m 0700 /var/lib/podruga
COPY --from=build /opt/podruga /opt/podruga
ENV PATH=/opt/podruga/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PODRUGA_DB=/var/lib/podruga/podruga.sqlite3 \
    PODRUGA_CACHE=/var/lib/podruga/cache:/opt/podruga/models
USER 10001:10001
WORKDIR /var/lib/podruga
VOLUME ["/var/lib/podruga"]
# 8443: the webhook (behind the reverse proxy); 8081: GET /health for the orchestrator.
EXPOSE 8443 8081
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8081/health', timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["podruga"]
CMD ["run", "--health-port", "8081"]
