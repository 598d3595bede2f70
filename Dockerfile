# syntax=docker/dockerfile:1

# fal-mcp as a container: the server bundled with `deno bundle`, compiled with `deno compile` into
# one binary, on Debian 12 slim. See docs/deployment.md.
#
#   docker build -t fal-mcp .
#   docker run --rm -p 127.0.0.1:8000:8000 -e FAL_KEY -e FAL_MCP_AUTH_TOKENS \
#     -v fal-mcp-data:/data fal-mcp
#
# Stages:
#   build        installs Deno from npm, bundles and compiles (on the build machine's platform,
#                cross-compiling for the target platform, so no emulation is needed here)
#   root-volume  the runtime image running as root, for platforms that mount volumes owned by
#                root (Fly.io: fly.toml selects it with build-target)
#   runtime      the default image, running as the unprivileged user 10001

ARG DENO_VERSION=2.9.6

FROM --platform=$BUILDPLATFORM node:22-bookworm-slim AS build
ARG DENO_VERSION
ENV DENO_NO_UPDATE_CHECK=1 \
    NO_COLOR=1
RUN npm install --global --no-audit --no-fund "deno@${DENO_VERSION}" \
 && deno --version
WORKDIR /src

# Dependencies first, so they stay cached while only the sources change.
COPY deno.json deno.lock ./
RUN deno install --frozen

COPY main.ts mod.ts ./
COPY src/ src/
RUN deno bundle --quiet --platform deno --output /out/fal-mcp.js main.ts

# Compiled from the bundle (one JavaScript file, no node_modules in the binary). Reads are limited
# to the data volume and Docker/Compose secrets, writes to the data volume. TARGETARCH is declared
# only here so the layers above are shared by every target platform.
ARG TARGETARCH
RUN set -eu; \
    arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    case "$arch" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "fal-mcp images are built for amd64 and arm64, not ${arch}" >&2; exit 1 ;; \
    esac; \
    deno compile --no-config --no-lock --target "$target" \
      --allow-net --allow-env --allow-read=/data,/run/secrets --allow-write=/data \
      --unstable-no-legacy-abort --output /out/fal-mcp /out/fal-mcp.js


FROM debian:12-slim AS base
# curl is only for HEALTHCHECK: the server has no health-check mode of its own to call instead.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 fal-mcp \
 && useradd --no-log-init --uid 10001 --gid fal-mcp --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin fal-mcp \
 && mkdir -p /data \
 && chown 10001:10001 /data
COPY --from=build --chmod=0755 /out/fal-mcp /usr/local/bin/fal-mcp

LABEL org.opencontainers.image.title="fal-mcp" \
      org.opencontainers.image.description="MCP server for the fal.ai generative media models" \
      org.opencontainers.image.source="https://github.com/fal-mcp/fal-mcp" \
      org.opencontainers.image.licenses="MIT" \
      io.modelcontextprotocol.server.name="io.github.fal-mcp/fal-mcp"

# HTTP on every interface of the container. The server refuses to start on 0.0.0.0 without
# authentication: pass FAL_MCP_AUTH_TOKENS (or OAuth settings, or --allow-unauthenticated).
ENV FAL_MCP_TRANSPORT=http \
    FAL_MCP_HOST=0.0.0.0 \
    PORT=8000 \
    FAL_MCP_STATE_DIR=/data \
    HOME=/data
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
# SIGTERM starts the graceful drain (--shutdown-timeout, 25 s by default): give the container more
# than that to stop (docker stop --time 35, compose stop_grace_period, the platform's kill timeout).
STOPSIGNAL SIGTERM
# Fails on any non-2xx answer (--fail) or no answer within 4 s. Follows FAL_MCP_PORT, then PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl --fail --silent --show-error --max-time 4 --output /dev/null \
      "http://127.0.0.1:${FAL_MCP_PORT:-${PORT:-8000}}/health" || exit 1
ENTRYPOINT ["/usr/local/bin/fal-mcp"]


FROM base AS root-volume
USER root


FROM base AS runtime
USER 10001:10001
