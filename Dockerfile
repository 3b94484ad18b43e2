FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
COPY dashboard ./dashboard
COPY config ./config
RUN pip install --no-cache-dir .
ENV LEADROUTER_ROUTING_CONFIG=/app/config/routing.yaml
ENTRYPOINT ["leadrouter"]
