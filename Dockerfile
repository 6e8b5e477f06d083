# Dockerfile — the `scaleout:latest` image that `scaleout up --emit k8s`
# manifests run (docs/deploy.md). One binary; every role is a subcommand.
#
#   docker build -t scaleout:latest .
#   docker run --rm scaleout:latest --help
#
# Build stage: Debian 12's toolchain and the -dev packages of the libraries
# the binary links (the same list as scripts/install-deps.sh's build part).
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config libuv1-dev libxxhash-dev \
        libpq-dev libssl-dev libnghttp2-dev liblua5.1-0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/install-deps.sh ./scripts/
COPY src ./src
# the packages are in: mark them so (make would install the test tools too)
RUN mkdir -p build && touch build/.deps-ok && make -j"$(nproc)" scaleout

# Runtime stage: the shared libraries only, plus lua-cjson and lua-bitop,
# which kv scripts load at run time (cjson and bit, as in Redis).
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libuv1 libxxhash0 libpq5 libssl3 libnghttp2-14 liblua5.1-0 \
        lua-cjson lua-bitop ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/scaleout /usr/local/bin/scaleout
# No USER: kv's StatefulSet writes its volume, whose owner depends on the
# cluster's storage; set runAsUser / fsGroup in the pods to run unprivileged.
ENTRYPOINT ["/usr/local/bin/scaleout"]
