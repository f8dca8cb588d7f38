#!/usr/bin/env bash
# Install the Prometheus server and promtool that the Prometheus tests use
# (tests/integration/test_prometheus_dashboard.py, tests/unit/test_alert_rules.py) into .tools/bin:
#
#   .tools/bin/prometheus   built from source through the Go module proxy
#   .tools/bin/promtool     built from source through the Go module proxy
#
# Built with the tag remove_all_sd: the server keeps only static and file service discovery,
# which is all the tests use, and skips compiling the cloud SDKs (promtool still pulls in the
# Kubernetes client, which its own code imports). Idempotent like install-helm-tools.sh: a
# binary already at the pinned version is left alone; Go's module and build caches live under
# ~/.cache so a rebuild reuses what was downloaded and compiled before.
#
# Needs: go (>= 1.26). Usage: scripts/install-prometheus.sh (from anywhere).
set -euo pipefail

# Prometheus 3.x is published to the module proxy as v0.3MM.P (3.16.0 -> v0.316.0).
PROMETHEUS_VERSION=3.16.0
MODULE_VERSION=v0.316.0

LOG_NAME=install-prometheus
# shellcheck source=lib/go-tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-tools.sh"

installed() {
  local tool=$1
  [[ -x "$BIN/$tool" ]] && "$BIN/$tool" --version 2>/dev/null \
    | grep -q "^$tool, version $PROMETHEUS_VERSION "
}

if installed prometheus && installed promtool; then
  log "prometheus and promtool $PROMETHEUS_VERSION already installed"
  exit 0
fi
log "building prometheus and promtool $PROMETHEUS_VERSION (go install; many minutes when cold)"
# The version flags are what Prometheus's own build sets, so `--version` names the release.
common=github.com/prometheus/common/version
go install -trimpath -tags remove_all_sd -ldflags "-s -w \
  -X $common.Version=$PROMETHEUS_VERSION -X $common.Branch=release \
  -X $common.Revision=$MODULE_VERSION -X $common.BuildUser=streamcore" \
  "github.com/prometheus/prometheus/cmd/prometheus@$MODULE_VERSION" \
  "github.com/prometheus/prometheus/cmd/promtool@$MODULE_VERSION"
log "done: $BIN/prometheus, $BIN/promtool"
