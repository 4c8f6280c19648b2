# Lodestone in a container: built on the Swift image, run on debian:bookworm-slim with only the
# libraries the executables load (librabbitmq4, libsqlite3-0; the Swift runtime is linked in).
#   docker build -t lodestone:0.15.0 --build-arg LODE_BUILD_COMMIT=$(git rev-parse HEAD) .
#   docker run --rm lodestone:0.15.0 lode-worker --version
# deploy/compose/compose.yaml runs it with a RabbitMQ cluster, PostgreSQL, Prometheus and Grafana.

# --- build -------------------------------------------------------------------------------------
FROM swift:6.1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest first: dependencies resolve in a layer of their own.
COPY Package.swift VERSION ./
COPY Plugins ./Plugins
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY bench ./bench
# No .git in the build context: the commit comes in as a build argument (--version shows it).
ARG LODE_BUILD_COMMIT=unknown
ENV LODE_BUILD_COMMIT=${LODE_BUILD_COMMIT}
RUN swift build -c release --static-swift-stdlib --product lode-worker \
    && swift build -c release --static-swift-stdlib --product lode-publish \
    && swift build -c release --static-swift-stdlib --product lodectl \
    && mkdir -p /out \
    && for exe in lode-worker lode-publish lodectl; do \
         install -m 0755 "$(swift build -c release --show-bin-path)/$exe" /out/ && strip /out/$exe; \
       done

# --- run ---------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# curl: the HEALTHCHECK's request to /healthz.
RUN apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq4 libsqlite3-0 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 lodestone \
    && useradd --system --uid 10001 --gid lodestone --home-dir /var/lib/lodestone --shell /usr/sbin/nologin lodestone \
    && install -d -o lodestone -g lodestone -m 0750 /var/lib/lodestone
COPY --from=build /out/ /usr/bin/
COPY deploy/debian/lodestone.yaml /etc/lodestone/lodestone.yaml
USER 10001:10001
WORKDIR /var/lib/lodestone
# Every interface inside the container (the published port decides who reaches it); JSON logs
# for the log collector.
ENV LODE_METRICS_ADDRESS=0.0.0.0:9464 \
    LODE_LOG_FORMAT=json
EXPOSE 9464
VOLUME ["/var/lib/lodestone"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["curl", "--fail", "--silent", "--output", "/dev/null", "http://127.0.0.1:9464/healthz"]
# SIGTERM: the worker finishes, commits and acknowledges the batch in hand, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/lode-worker"]
CMD ["--config", "/etc/lodestone/lodestone.yaml"]
