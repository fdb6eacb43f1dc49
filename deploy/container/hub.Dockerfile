# The Kuroko hub, from a release bundle (kuroko release --arch linux-x64|linux-arm64 -o FILE).
#   kuroko release --arch linux-x64 -o deploy/container/kuroko-linux-x64.tar.gz
#   docker build -f deploy/container/hub.Dockerfile -t kuroko-hub deploy/container
# The base image needs Node 20 (any glibc distribution); the bundle brings everything else,
# prebuilt for its arch: nothing is compiled or downloaded here.
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}
ARG BUNDLE=kuroko-linux-x64.tar.gz
# ADD unpacks a local tarball: the tree `kuroko release` signed (its manifest comes along, so
# `verifyTree` can check the installed files later).
ADD ${BUNDLE} /opt/kuroko/
# /etc/kuroko/{access,broker,metrics} are owned by kuroko so that fresh named volumes mounted
# there (compose.yaml) are writable by it.
RUN set -eu; \
    node -e 'const [maj] = process.versions.node.split(".").map(Number); if (maj < 20) { console.error(`Kuroko needs Node 20 or newer in the base image, not ${process.version}`); process.exit(1); }'; \
    useradd --system --uid 10001 --home-dir /var/lib/kuroko --shell /usr/sbin/nologin kuroko; \
    mkdir -p /var/lib/kuroko/journal /etc/kuroko/access /etc/kuroko/broker /etc/kuroko/metrics; \
    cp /opt/kuroko/dist/hub/shows/blade.yaml /etc/kuroko/show.yaml; \
    chown -R kuroko:kuroko /var/lib/kuroko /etc/kuroko/access /etc/kuroko/broker /etc/kuroko/metrics; \
    chmod 0700 /etc/kuroko/access
USER kuroko
WORKDIR /opt/kuroko
ENV KUROKO_LOG_FORMAT=json KUROKO_RUNTIME=dist NODE_ENV=production
EXPOSE 8080
VOLUME ["/var/lib/kuroko"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/opt/kuroko/bin/kuroko.js"]
CMD ["hub", "--show", "/etc/kuroko/show.yaml", "--broker", "mqtts://mosquitto:8883", "--access", "/etc/kuroko/access", "--journal-dir", "/var/lib/kuroko/journal", "--http-port", "8080"]
