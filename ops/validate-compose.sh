#!/usr/bin/env bash
# Validates ops/compose.yml with docker-compose (installs Debian's docker-compose via apt-get
# when missing; no Docker engine needed). Uses ops/.env.sample so it never needs real keys.
# Exit status non-zero when the file does not validate.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "== installing docker-compose (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  fi
fi

echo "== docker-compose config ($(docker-compose version --short))"
# -q: validate only. --env-file (compose >= 1.25) so a developer's ops/.env is not used.
docker-compose --env-file ops/.env.sample -f ops/compose.yml config -q

# Required values must be enforced: with an empty env file, config has to fail naming one.
empty="$(mktemp)"
trap 'rm -f "$empty"' EXIT
if out="$(env -i PATH="$PATH" docker-compose --env-file "$empty" -f ops/compose.yml config -q 2>&1)"; then
  echo "ops/compose.yml validates without its required keys (missing :? checks)" >&2
  exit 1
elif ! grep -qiE 'mandatory value|required variable' <<<"$out"; then
  echo "docker-compose config failed for another reason: $out" >&2
  exit 1
fi
echo "== ops/compose.yml is valid"
