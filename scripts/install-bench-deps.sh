#!/usr/bin/env bash
# Installs the peers of bench/compare: Debian's Prometheus 2.42 and VictoriaMetrics 1.79, a C
# compiler for the load generator, and cramjam for snappy. Idempotent.
set -euo pipefail
need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus victoria-metrics >/dev/null 2>&1 || true; fi
  pkill -x prometheus >/dev/null 2>&1 || true
  pkill -x victoria-metrics >/dev/null 2>&1 || true
fi
python3 -c "import cramjam" 2>/dev/null || python3 -m pip install -q cramjam
