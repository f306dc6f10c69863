#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine, and that the tools the integration tests use are here.
# Reuses a daemon that already answers; otherwise installs docker.io + busybox-static (Debian) and starts dockerd.
# Installs docker-compose (Debian's 1.29: the labels of Compose v2) when missing, for the Compose tests.
set -euo pipefail

log() { echo "ensure-engine: $*" >&2; }
answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v docker-compose >/dev/null 2>&1 || need_pkgs+=(docker-compose)  # the Compose tests' real projects (1.29)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)  # tests/integration/test_ssh.py: a real sshd on 127.0.0.1
command -v ssh >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v podman >/dev/null 2>&1 || need_pkgs+=(podman)  # tests/integration/test_podman.py: its own service

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    log "missing ${need_pkgs[*]} and cannot install them (not root or no apt-get)"
  fi
fi
command -v docker >/dev/null 2>&1 || { log "no docker CLI"; exit 1; }

if answers; then
  log "engine answers: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "no dockerd on this machine and none answers"; exit 1
fi
if [ -f /var/run/docker.pid ] && ! pgrep -x dockerd >/dev/null 2>&1; then
  log "removing stale /var/run/docker.pid"
  rm -f /var/run/docker.pid
fi
if ! pgrep -x dockerd >/dev/null 2>&1; then
  log "starting dockerd (log: /tmp/troubleshoot-dockerd.log)"
  nohup dockerd >/tmp/troubleshoot-dockerd.log 2>&1 &
fi
for _ in $(seq 1 60); do
  if answers; then
    log "engine answers: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last log lines:"
tail -n 20 /tmp/troubleshoot-dockerd.log >&2 || true
exit 1
