FROM python:3.11-slim
WORKDIR /app
# exact versions and hashes from the lock (`make lock` regenerates it from pyproject.toml)
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY dashboard ./dashboard
COPY config ./config
RUN pip install --no-cache-dir --no-deps . && pip check
ENV LEADROUTER_ROUTING_CONFIG=/app/config/routing.yaml
ENTRYPOINT ["leadrouter"]
