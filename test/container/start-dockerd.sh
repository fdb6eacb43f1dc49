#!/bin/sh
# Starts Debian's dockerd for the container test when no daemon answers (CI: .ci/run calls this;
# the test calls it too). overlay2 storage; the cgroup version is whatever the kernel runs.
set -eu
if docker info >/dev/null 2>&1; then exit 0; fi
command -v dockerd >/dev/null 2>&1 || { echo "dockerd not found: apt-get install docker.io" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "dockerd needs root to start; start it yourself (and set DOCKER_HOST)" >&2; exit 1; }
mkdir -p /var/log
nohup dockerd --storage-driver=overlay2 >/var/log/kuroko-dockerd.log 2>&1 &
i=0
until docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt 60 ]; then echo "dockerd did not come up in 60 s:" >&2; tail -20 /var/log/kuroko-dockerd.log >&2; exit 1; fi
  sleep 1
done
echo "dockerd $(docker version --format '{{.Server.Version}}') is up"
