#!/usr/bin/env bash
# Writes the mosquitto password file from environment variables (idempotent: the file is
# rebuilt from scratch on every run, so removing a variable removes that user).
#
#   MQTT_MANAGER_PASSWORD        user config-manager
#   MQTT_<SERVICE>_PASSWORD      user <service>: upper case and `_` become lower case and `-`,
#                                so MQTT_DEDUP_WORKER_PASSWORD is user dedup-worker
#
# Variables are taken from the environment and, when present, from ops/.env (the environment
# wins). Usage:
#   ops/mosquitto-passwords.sh [output-file]      (default: ops/mosquitto-passwords)
#
# Needs `mosquitto_passwd` on the PATH, or docker (then the eclipse-mosquitto:2 image's).
# The file is written with mode 0600; when run as root it is chowned to MOSQUITTO_UID
# (default 1883, the mosquitto user of the eclipse-mosquitto image) so the broker can read it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/mosquitto-passwords}"
env_file="${MQTT_ENV_FILE:-$here/.env}"

# Values from ops/.env for the MQTT_*_PASSWORD variables not already set.
if [[ -f "$env_file" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?(MQTT_[A-Z0-9_]+_PASSWORD)=(.*)$ ]] || continue
    name="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    value="${value%$'\r'}"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
    if [[ -z "${!name+set}" ]]; then export "$name=$value"; fi
  done <"$env_file"
fi

names=()
while IFS= read -r name; do names+=("$name"); done < <(compgen -e | grep -E '^MQTT_[A-Z0-9_]+_PASSWORD$' | sort)

if [[ -z "${MQTT_MANAGER_PASSWORD+set}" ]]; then
  echo "mosquitto-passwords: MQTT_MANAGER_PASSWORD is not set" >&2
  exit 1
fi

user_of() {
  local name="$1"
  if [[ "$name" == MQTT_MANAGER_PASSWORD ]]; then
    echo config-manager
    return
  fi
  local service="${name#MQTT_}"
  service="${service%_PASSWORD}"
  service="${service,,}"
  echo "${service//_/-}"
}

if command -v mosquitto_passwd >/dev/null 2>&1; then
  passwd_cmd() { mosquitto_passwd "$@"; }
  tool_dir_of() { echo "$1"; }
elif command -v docker >/dev/null 2>&1; then
  passwd_cmd() {
    # Arguments are: -b <file> <user> <password>; run inside the image with the file's directory mounted.
    local args=("$@")
    local file="${args[1]}"
    args[1]="/work/$(basename "$file")"
    docker run --rm -u "$(id -u):$(id -g)" -v "$(dirname "$file"):/work" \
      eclipse-mosquitto:2 mosquitto_passwd "${args[@]}"
  }
else
  echo "mosquitto-passwords: needs mosquitto_passwd (apt-get install mosquitto) or docker" >&2
  exit 1
fi

dir="$(dirname "$out")"
mkdir -p "$dir"
tmp="$(mktemp "$dir/.mosquitto-passwords.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
chmod 0600 "$tmp"

count=0
for name in "${names[@]}"; do
  user="$(user_of "$name")"
  password="${!name}"
  if [[ -z "$password" ]]; then
    echo "mosquitto-passwords: $name is empty; refusing to create user $user without a password" >&2
    exit 1
  fi
  if [[ ! "$user" =~ ^[a-z][a-z0-9-]{1,62}$ ]]; then
    echo "mosquitto-passwords: $name gives user '$user', not a valid service name" >&2
    exit 1
  fi
  # -b: password on the command line (batch mode); the file is created on the first user.
  passwd_cmd -b "$tmp" "$user" "$password" >/dev/null
  echo "mosquitto-passwords: user $user" >&2
  count=$((count + 1))
done

chmod 0600 "$tmp"
if [[ "$(id -u)" == 0 ]]; then chown "${MOSQUITTO_UID:-1883}:${MOSQUITTO_GID:-1883}" "$tmp"; fi
mv -f "$tmp" "$out"
trap - EXIT
echo "mosquitto-passwords: wrote $count user(s) to $out (mode 0600)" >&2
