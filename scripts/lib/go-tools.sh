# Sourced by the scripts that build tools with `go install` into .tools/bin
# (install-helm-tools.sh, install-prometheus.sh): one place for the paths and Go's caches, so
# every tool reuses the modules and builds the others downloaded and compiled.
# Sets ROOT, TOOLS, BIN, CACHE and the Go environment; the caller sets LOG_NAME first.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/streamcore-tools"
mkdir -p "$BIN" "$CACHE"

export GOMODCACHE="$CACHE/go-mod" GOCACHE="$CACHE/go-build" GOBIN="$BIN"
export GOFLAGS="-buildvcs=false" CGO_ENABLED=0

log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
