FROM python:3.11-slim AS product
WORKDIR /app
# exact versions and hashes from the lock (`make lock` regenerates it from pyproject.toml)
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY dashboard ./dashboard
RUN pip install --no-cache-dir --no-deps . && pip check
# The routing config is not baked in: docker-compose.yml mounts ./config at /app/config
# (read-only), so an edit applies without a rebuild. The dashboard's users file lives in
# a volume at /data/users, written by `leadrouter dashboard add-user` inside the container.
# Everything runs as an unprivileged user that owns nothing of the code.
RUN groupadd --system --gid 10001 leadrouter \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home \
       --shell /usr/sbin/nologin leadrouter \
    && mkdir -p /app/config /data/users /data/sandbox \
    && chown -R leadrouter:leadrouter /data \
    && chmod 0700 /data/users
ENV LEADROUTER_ROUTING_CONFIG=/app/config/routing.yaml \
    LEADROUTER_DASHBOARD_USERS_FILE=/data/users/dashboard-users.yaml \
    HOME=/data
USER 10001:10001
ENTRYPOINT ["leadrouter"]

# The test rig's image (the compose file's demo profile): the product plus the devkit
# (sandbox org, lead generator), installed from the dev lock, which holds the devkit's
# dependencies with their hashes. `docker build --target demo .`; never used in production.
FROM product AS demo
USER root
COPY requirements-dev.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-dev.lock
COPY devkit ./devkit
RUN pip install --no-cache-dir --no-deps '.[devkit]' && pip check
USER 10001:10001
