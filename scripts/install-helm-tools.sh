#!/usr/bin/env bash
# Install the tools that test the Helm chart (tests/helm) into .tools/:
#
#   .tools/bin/helm            built from source through the Go module proxy
#   .tools/bin/kubeconform     built from source through the Go module proxy
#   .tools/k8s-schemas/        Kubernetes JSON schemas taken from the PyPI package
#                              kubernetes-validate (no download at test time)
#
# Idempotent: a tool already present at the pinned version is left alone, so a second run
# takes well under a second. Go's module and build caches live under ~/.cache so that even a
# rebuild (new pin, wiped .tools/) reuses what was downloaded and compiled before.
#
# Needs: go (>= 1.25), and a Python with pip (the project venv .venv if it exists).
# Usage: scripts/install-helm-tools.sh        (from anywhere; paths are relative to the repo)
set -euo pipefail

HELM_VERSION=v3.20.2
KUBECONFORM_VERSION=v0.7.0
# kubernetes-validate ships one JSON schema set per Kubernetes minor version; we keep one.
K8S_SCHEMAS_PACKAGE_VERSION=1.37.0
K8S_VERSION=1.35.0  # the Kubernetes version the chart is validated against (helm's client-go)

LOG_NAME=install-helm-tools
# shellcheck source=lib/go-tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/go-tools.sh"
SCHEMAS="$TOOLS/k8s-schemas"

install_helm() {
  if [[ -x "$BIN/helm" ]] \
    && [[ "$("$BIN/helm" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
    log "helm $HELM_VERSION already installed"
    return
  fi
  log "building helm $HELM_VERSION (go install; a few minutes when cold)"
  # The same -X flags as helm's Makefile: without them `helm version` says "v3.20" and
  # .Capabilities.KubeVersion defaults to v1.20, far older than any supported cluster.
  local pkg=helm.sh/helm/v3
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  go install -trimpath -ldflags "-s -w \
    -X $pkg/internal/version.version=$HELM_VERSION \
    -X $pkg/internal/version.gitTreeState=clean \
    -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$minor \
    -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$minor" \
    "$pkg/cmd/helm@$HELM_VERSION"
}

install_kubeconform() {
  if [[ -x "$BIN/kubeconform" ]] \
    && [[ "$("$BIN/kubeconform" -v 2>/dev/null)" == "$KUBECONFORM_VERSION" ]]; then
    log "kubeconform $KUBECONFORM_VERSION already installed"
    return
  fi
  log "building kubeconform $KUBECONFORM_VERSION (go install)"
  go install -trimpath -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
}

python_with_pip() {
  local candidate
  for candidate in "$ROOT/.venv/bin/python" python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -m pip --version >/dev/null 2>&1; then
      echo "$candidate"
      return
    fi
  done
  log "no Python with pip found (create the project venv .venv first)"
  exit 1
}

install_k8s_schemas() {
  local stamp="$SCHEMAS/.installed"
  # Bump "unpack=" whenever the unpacking below changes, so old copies are redone.
  local want="kubernetes-validate==$K8S_SCHEMAS_PACKAGE_VERSION k8s=$K8S_VERSION unpack=2"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "Kubernetes $K8S_VERSION schemas already installed"
    return
  fi
  log "unpacking Kubernetes $K8S_VERSION schemas from $want"
  local python wheels="$CACHE/wheels"
  python=$(python_with_pip)
  "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" \
    "kubernetes-validate==$K8S_SCHEMAS_PACKAGE_VERSION"
  rm -rf "$SCHEMAS"
  # The package's schemas carry "$id": "https://kubernetes.io/api/..." and point at a shared
  # "/api/_definitions.json" resolved against that id. kubeconform must resolve them on disk:
  # drop the ids (the file's location becomes the base) and make the refs relative.
  "$python" - "$wheels/kubernetes_validate-$K8S_SCHEMAS_PACKAGE_VERSION-py3-none-any.whl" \
    "$SCHEMAS" "v$K8S_VERSION" <<'PY'
import json
import pathlib
import sys
import zipfile

wheel, dest, version = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
prefix = "kubernetes_validate/kubernetes-json-schema/"
count = 0
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if not name.startswith(prefix) or not name.endswith(".json"):
            continue
        flavour, filename = name[len(prefix):].split("/", 1)
        if flavour not in (f"{version}-local", f"{version}-local-strict"):
            continue
        schema = json.loads(archive.read(name))
        schema.pop("$id", None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        target = dest / flavour / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        count += 1
if count == 0:
    sys.exit(f"no schemas for {version} in {wheel}")
print(f"install-helm-tools: {count} schema files in {dest}", file=sys.stderr)
PY
  echo "$want" >"$stamp"
}

install_helm
install_kubeconform
install_k8s_schemas
log "done: $BIN/helm, $BIN/kubeconform, $SCHEMAS"
