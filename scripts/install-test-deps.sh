#!/usr/bin/env bash
# Installs what the interop tests drive: Debian's Prometheus 2.42 (and promtool), node_exporter and
# Pushgateway, the Python packages the tests use (pytest, protobuf, cramjam for snappy,
# requests, prometheus-client), and the OpenTelemetry Python SDK with its OTLP exporters in
# virtual environments of their own (they pin their own protobuf; the JSON exporter pins an
# older API than the others), under $OSPREY_TEST_VENVS (default ~/.cache/osprey-test-venvs).
# Idempotent; safe to
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

# The OpenTelemetry Python SDK with the gRPC and HTTP/protobuf OTLP exporters, and the separate
# OTLP/JSON exporter, each in its own virtual environment (pinned: the tests assert what these
# versions send).
venvs="${OSPREY_TEST_VENVS:-$HOME/.cache/osprey-test-venvs}"
make_venv() {
  local name="$1" check="$2"
  shift 2
  if [ -x "$venvs/$name/bin/python" ] && "$venvs/$name/bin/python" -c "$check" >/dev/null 2>&1; then
    return
  fi
  rm -rf "${venvs:?}/$name"
  mkdir -p "$venvs"
  python3 -m venv "$venvs/$name"
  "$venvs/$name/bin/pip" install -q "$@"
}
make_venv otel "import opentelemetry.exporter.otlp.proto.grpc.metric_exporter, opentelemetry.exporter.otlp.proto.http.metric_exporter" \
  opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-grpc==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2
make_venv otel-json "import opentelemetry.exporter.otlp.json.http.metric_exporter" \
  opentelemetry-exporter-otlp-json-http==0.66b1 opentelemetry-sdk==1.45.2
make_venv otel-zipkin "import opentelemetry.exporter.zipkin.json, opentelemetry.exporter.zipkin.proto.http" \
  opentelemetry-exporter-zipkin-json==1.45.1 opentelemetry-exporter-zipkin-proto-http==1.45.1 opentelemetry-sdk==1.45.1
