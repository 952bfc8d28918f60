# syntax=docker/dockerfile:1
# The pingone-sync-exporter image (README.md, "Running with Docker").
#
#   docker build --build-arg PINGONE_SYNC_EXPORTER_REVISION="$(git rev-parse --short=12 HEAD)" \
#     -t pingone-sync-exporter .
#   docker run --rm -p 9871:9871 pingone-sync-exporter --demo
#
# Base image: distroless `cc` (Debian 12): glibc and libgcc for a normal
# Rust binary, CA certificates for HTTPS to PingOne, a `nonroot` user
# (65532), and no shell or package manager. The build stage is the Debian 12
# Rust image, so the binary runs on the glibc it was linked against, and it
# is the same toolchain the test suite builds with (scripts/check-dockerfile.sh
# runs this stage's commands on it). A static musl build on `scratch` would
# save ~20 MB but needs a musl C toolchain for ring, and CA certificates
# copied in by hand.
#
# Tags, not digests: no registry was reachable where this file was written,
# so no digest could be checked. Pin `@sha256:...` in your own pipeline
# (`docker buildx imagetools inspect IMAGE:TAG`).
#
# Paths inside the image:
#   /usr/local/bin/pingone-sync-exporter           the binary
#   /etc/pingone-sync-exporter/config.yml          default config: mount yours here
#   /usr/share/pingone-sync-exporter/dashboards/   Grafana dashboards
#   /usr/share/pingone-sync-exporter/alerts/       Prometheus alert and recording rules

FROM rust:1.95-bookworm AS build
# build.rs records it in pingone_exporter_build_info{revision}; there is no .git here.
ARG PINGONE_SYNC_EXPORTER_REVISION=
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
# Cargo.toml names the scrape bench; the manifest does not parse without it.
COPY benches ./benches
RUN cargo build --release --locked \
 && strip target/release/pingone-sync-exporter \
 && target/release/pingone-sync-exporter --version

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/pingone-sync-exporter /usr/local/bin/pingone-sync-exporter
COPY config/pingone-sync-exporter.yml /etc/pingone-sync-exporter/config.yml
COPY dashboards/ /usr/share/pingone-sync-exporter/dashboards/
COPY alerts/ /usr/share/pingone-sync-exporter/alerts/
USER 65532:65532
EXPOSE 9871
# No shell in the image: the binary checks itself. With TLS or basic auth
# on, set PINGONE_SYNC_EXPORTER_HEALTHCHECK_URL, ..._INSECURE_SKIP_VERIFY,
# ..._USERNAME and ..._PASSWORD_FILE (docs/web-config.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/pingone-sync-exporter", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pingone-sync-exporter"]
CMD ["--config.file=/etc/pingone-sync-exporter/config.yml"]
