#!/usr/bin/env bash
# Installs what the interop tests drive: Debian's Prometheus 2.42 (and promtool), node_exporter and
# Pushgateway, and the Python packages the tests use (pytest, protobuf, cramjam for snappy,
# requests, prometheus-client). Idempotent; safe to
# rerun. Needs root (CI and the dev machines run as root) and access to Debian's and PyPI's
# package registries.
set -euo pipefail

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
command -v prometheus-node-exporter >/dev/null 2>&1 || need_apt+=(prometheus-node-exporter)
command -v prometheus-pushgateway >/dev/null 2>&1 || need_apt+=(prometheus-pushgateway)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian starts the packaged Prometheus as a service; the tests run their own on loopback.
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop prometheus prometheus-node-exporter prometheus-pushgateway >/dev/null 2>&1 || true
  fi
  pkill -x prometheus >/dev/null 2>&1 || true
  pkill -f prometheus-node-exporter >/dev/null 2>&1 || true
  pkill -f prometheus-pushgateway >/dev/null 2>&1 || true
fi

python3 - <<'PY' || python3 -m pip install -q pytest protobuf cramjam requests prometheus-client
import pytest, google.protobuf, cramjam, requests, prometheus_client
PY
