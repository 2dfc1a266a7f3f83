# Stage 1: the dependency layer, rebuilt only when requirements.lock changes.
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /venv && /venv/bin/pip install --no-deps -r /tmp/requirements.lock

# Stage 2: the runtime image: the venv, then the source, run as a non-root user.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH \
    DATABASE_PATH=/data/bot.sqlite3 \
    CONTENT_DIR=/app/content
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data
COPY --from=deps /venv /venv
WORKDIR /app
# Run from source, not installed: bot/db/migrations.py then finds the SQL files in /app/migrations/sqlite and
# /app/migrations/postgresql beside /app/bot.
COPY bot/ bot/
COPY migrations/ migrations/
# Compile once at build time: PYTHONDONTWRITEBYTECODE stops writes at run time, not reads, so starts stay fast.
RUN python -m compileall -q bot
# The content as released, owned by root and so read-only to the bot: an edit from Discord (/content put) into the
# image would vanish with the next one, so it is refused with a sentence until a folder is mounted at /app/content.
COPY content/ content/
USER bot
VOLUME ["/data"]
# `python -m bot health` reads the heartbeat the bot rewrites every 15 s (or asks /healthz when HEALTH_PORT is set);
# the start period covers loading content, migrating and, on PostgreSQL, waiting up to SHARD_LEASE_WAIT for a lease.
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 CMD ["python", "-m", "bot", "health"]
# Exec form, no shell in between: python is PID 1 and receives `docker stop`'s SIGTERM (the default STOPSIGNAL)
# itself. The bot handles it (bot/run.py): as PID 1 without a handler, SIGTERM would be ignored until Docker
# sends SIGKILL after its 10 s grace period, and the shutdown path would never run.
ENTRYPOINT ["python", "-m"]
CMD ["bot"]
