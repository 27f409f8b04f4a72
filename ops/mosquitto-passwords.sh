#!/usr/bin/env bash
# Writes the mosquitto password file and ACL file from environment variables. Both are rebuilt
# from scratch on every run (idempotent: removing a user from the variables removes it from
# both files).
#
# One broker user per running process. The broker sets use_username_as_clientid, so the
# username is the MQTT client id: a second process on the same user would disconnect the first.
#
#   user                          declared by                        password variable
#   config-manager                (always)                           MQTT_MANAGER_PASSWORD
#   config-manager/<replica>      MQTT_MANAGER_REPLICAS=<replica>,…  MQTT_MANAGER_PASSWORD_<REPLICA>
#   <service>/<instanceId>        MQTT_WORKER_USERS=<service>/<instanceId>,…
#                                                        MQTT_WORKER_PASSWORD_<SERVICE>__<INSTANCEID>
#   mqtt-bridge                   (when its password is set)         MQTT_BRIDGE_PASSWORD
#
# mqtt-bridge is the user another mosquitto's bridge logs in with (two brokers bridged, one
# manager replica on each: ops/README.md, "Supported scale-out shape"); it may read and write
# everything under system/#, which the bridge carries both ways.
#
# <X> is X in upper case with every `-`, `.` and `_` turned into `_`; `__` separates service
# and instance. So dedup-worker/dedup-worker-1 needs
# MQTT_WORKER_PASSWORD_DEDUP_WORKER__DEDUP_WORKER_1, and replica eu-2 MQTT_MANAGER_PASSWORD_EU_2.
# Two users that map to the same variable (w-1 and w.1) are refused: rename one.
#
# Names: <service> matches ^[a-z][a-z0-9-]{1,62}$ (and is not config-manager); <instanceId>
# matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$, the worker's INSTANCE_ID. Instance ids may contain
# `:`, but a mosquitto username cannot (the password file is `username:hash`), so such an
# instance needs an INSTANCE_ID without `:` to get a broker user. <replica> has the same form.
#
# Per-service users (MQTT_<SERVICE>_PASSWORD, user `dedup-worker`) are no longer supported:
# every instance of the service shared one identity and could write its siblings' health.
# The script refuses to run while such a variable is set.
#
# The ACL file is docker/mosquitto/acl (the rules for every user) followed by one generated
# `user` block per user (see that file's header for why they are generated).
#
# Variables are taken from the environment and, when present, from ops/.env (the environment
# wins). Usage:
#   ops/mosquitto-passwords.sh [password-file [acl-file]]
#     (defaults: ops/mosquitto-passwords, and mosquitto-acl next to the password file)
#
# Needs only node (hashes in mosquitto 2's `$7$` PBKDF2-SHA512 format; no mosquitto_passwd).
# `npm run ops:init` runs it once for a fresh ops/.env.
# The password file is written with mode 0600, the ACL (no secrets) with 0644; when run as root
# both are chowned to MOSQUITTO_UID (default 1883, the mosquitto user of the eclipse-mosquitto
# image) so the broker can read them.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/mosquitto-passwords}"
acl_out="${2:-$(dirname "$out")/mosquitto-acl}"
acl_rules="$here/../docker/mosquitto/acl"
env_file="${MQTT_ENV_FILE:-$here/.env}"

SERVICE_RE='^[a-z][a-z0-9-]{1,62}$'
INSTANCE_RE='^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$'
MANAGER_USER=config-manager
BRIDGE_USER=mqtt-bridge

fail() {
  echo "mosquitto-passwords: $*" >&2
  exit 1
}

# Values from ops/.env for the variables above not already set in the environment.
if [[ -f "$env_file" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?(MQTT_[A-Z0-9_]+)=(.*)$ ]] || continue
    name="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    [[ "$name" =~ ^MQTT_(WORKER_USERS|MANAGER_REPLICAS|[A-Z0-9_]+_PASSWORD|(MANAGER|WORKER)_PASSWORD_[A-Z0-9_]+)$ ]] ||
      continue
    value="${value%$'\r'}"
    if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
    if [[ -z "${!name+set}" ]]; then export "$name=$value"; fi
  done <"$env_file"
fi

# <X> of the header: upper case, `-`, `.` and `_` as `_`.
env_part() {
  local part="${1^^}"
  part="${part//[-.]/_}"
  echo "$part"
}

# A comma-separated list variable as one entry per line (spaces around entries ignored).
entries_of() {
  local name="$1" entry
  local -a list
  IFS=, read -ra list <<<"${!name:-}"
  for entry in ${list[@]+"${list[@]}"}; do
    entry="${entry#"${entry%%[![:space:]]*}"}"
    entry="${entry%"${entry##*[![:space:]]}"}"
    [[ -n "$entry" ]] && echo "$entry"
  done
  return 0
}

# Legacy per-service users: refused, with the replacement named.
while IFS= read -r name; do
  [[ "$name" == MQTT_MANAGER_PASSWORD ]] && continue
  service="${name#MQTT_}"
  service="${service%_PASSWORD}"
  service="${service,,}"
  service="${service//_/-}"
  fail "$name would create the per-service user '$service', which every instance of the service" \
    "would share (any instance could write its siblings' health and take over their client id)." \
    "Declare each instance instead: MQTT_WORKER_USERS=$service/<instanceId>,… with one" \
    "MQTT_WORKER_PASSWORD_<SERVICE>__<INSTANCEID> each (see ops/README.md), and unset $name"
done < <(compgen -e | grep -E '^MQTT_[A-Z0-9_]+_PASSWORD$' | grep -vE '^MQTT_(MANAGER|WORKER)_PASSWORD_|^MQTT_BRIDGE_PASSWORD$' | sort)

# Every user with its role and password variable, checked before anything is written.
users=()
roles=()
vars=()

# add_user <user> <role> <password variable> [<list variable that declares it>]
add_user() {
  local user="$1" role="$2" var="$3" list="${4:-}" i
  local where="${list:+, listed in $list}"
  for i in "${!users[@]}"; do
    [[ "${users[$i]}" == "$user" ]] && fail "$list lists $user twice"
    [[ "${vars[$i]}" == "$var" ]] &&
      fail "$list: users ${users[$i]} and $user both need the password variable $var; rename one"
  done
  if [[ -z "${!var+set}" ]]; then
    fail "$var is not set (the password of user $user$where)"
  fi
  if [[ -z "${!var}" ]]; then
    fail "$var is empty; refusing to create user $user without a password"
  fi
  users+=("$user")
  roles+=("$role")
  vars+=("$var")
}

add_user "$MANAGER_USER" manager MQTT_MANAGER_PASSWORD

while IFS= read -r replica; do
  if [[ "$replica" == *:* ]]; then
    fail "MQTT_MANAGER_REPLICAS: replica '$replica' contains ':', which a mosquitto username cannot"
  fi
  if [[ ! "$replica" =~ $INSTANCE_RE ]]; then
    fail "MQTT_MANAGER_REPLICAS: replica '$replica' does not match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\$"
  fi
  add_user "$MANAGER_USER/$replica" manager "MQTT_MANAGER_PASSWORD_$(env_part "$replica")" \
    MQTT_MANAGER_REPLICAS
done < <(entries_of MQTT_MANAGER_REPLICAS)

while IFS= read -r user; do
  if [[ "$user" != */* ]]; then
    fail "MQTT_WORKER_USERS: '$user' is not <service>/<instanceId> (one user per worker instance," \
      "e.g. dedup-worker/dedup-worker-1)"
  fi
  service="${user%%/*}"
  instance="${user#*/}"
  if [[ ! "$service" =~ $SERVICE_RE ]]; then
    fail "MQTT_WORKER_USERS: '$user': service '$service' does not match $SERVICE_RE"
  fi
  if [[ "$service" == "$MANAGER_USER" ]]; then
    fail "MQTT_WORKER_USERS: '$user': $MANAGER_USER is the manager's; declare manager replicas" \
      "in MQTT_MANAGER_REPLICAS"
  fi
  if [[ "$instance" == *:* && "$instance" =~ $INSTANCE_RE ]]; then
    fail "MQTT_WORKER_USERS: '$user': instance id '$instance' contains ':', which a mosquitto" \
      "username cannot (the password file is username:hash); give this instance an INSTANCE_ID" \
      "without ':'"
  fi
  if [[ ! "$instance" =~ $INSTANCE_RE ]]; then
    fail "MQTT_WORKER_USERS: '$user': instance id '$instance' does not match" \
      "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\$"
  fi
  add_user "$user" worker "MQTT_WORKER_PASSWORD_$(env_part "$service")__$(env_part "$instance")" \
    MQTT_WORKER_USERS
done < <(entries_of MQTT_WORKER_USERS)
if [[ -n "${MQTT_BRIDGE_PASSWORD+set}" ]]; then
  add_user "$BRIDGE_USER" bridge MQTT_BRIDGE_PASSWORD
fi

if [[ " ${roles[*]} " != *" worker "* ]]; then
  echo "mosquitto-passwords: warning: MQTT_WORKER_USERS is empty, no worker can log in" >&2
fi

# A password variable that no declared user needs is a typo or a user left half-removed.
while IFS= read -r name; do
  known=false
  for var in "${vars[@]}"; do [[ "$var" == "$name" ]] && known=true; done
  if [[ "$known" == false ]]; then
    case "$name" in
      MQTT_MANAGER_PASSWORD_*) list=MQTT_MANAGER_REPLICAS ;;
      *) list=MQTT_WORKER_USERS ;;
    esac
    fail "$name is set but no user in $list needs it; add the user to $list or unset $name"
  fi
done < <(compgen -e | grep -E '^MQTT_(MANAGER|WORKER)_PASSWORD_' | sort)

[[ -f "$acl_rules" ]] || fail "$acl_rules is missing"

command -v node >/dev/null 2>&1 || fail "needs node (the repository's Node.js 20) to hash the passwords"

# One password-file line, `user:$7$101$<salt>$<hash>`: mosquitto 2's PBKDF2-SHA512 format (what
# mosquitto_passwd writes: 12 random salt bytes, 101 iterations, 64-byte key, both base64).
# The password goes through stdin, never on a command line.
password_line() {
  printf '%s' "$2" | node -e '
    const { pbkdf2Sync, randomBytes } = require("node:crypto");
    const password = require("node:fs").readFileSync(0);
    const salt = randomBytes(12);
    const hash = pbkdf2Sync(password, salt, 101, 64, "sha512");
    process.stdout.write(`${process.argv[1]}:$7$101$${salt.toString("base64")}$${hash.toString("base64")}\n`);
  ' "$1"
}

# The ACL block of each role (docker/mosquitto/acl's header describes them).
acl_block() {
  local user="$1" role="$2"
  echo
  echo "user $user"
  case "$role" in
    manager)
      echo "topic readwrite system/config/#"
      echo "topic readwrite system/schema/#"
      echo "topic readwrite system/candidate/#"
      echo "topic read system/health/#"
      echo "topic write system/health/config-manager"
      ;;
    worker)
      # Its health topic, system/health/<service>/<instanceId>, comes from the pattern line.
      echo "topic read system/config/${user%%/*}"
      echo "topic read system/schema/${user%%/*}"
      echo "topic read system/candidate/${user%%/*}"
      ;;
    bridge)
      # Another broker's bridge: it carries every system/ topic both ways.
      echo "topic readwrite system/#"
      ;;
  esac
}

mkdir -p "$(dirname "$out")" "$(dirname "$acl_out")"
tmp="$(mktemp "$(dirname "$out")/.mosquitto-passwords.XXXXXX")"
acl_tmp="$(mktemp "$(dirname "$acl_out")/.mosquitto-acl.XXXXXX")"
trap 'rm -f "$tmp" "$acl_tmp"' EXIT
chmod 0600 "$tmp"

{
  echo "# Generated by ops/mosquitto-passwords.sh: do not edit, rerun the script. The rules are"
  echo "# docker/mosquitto/acl (copied below), then one block per broker user."
  echo
  cat "$acl_rules"
  echo
  echo "# --- generated: one block per user ---"
} >"$acl_tmp"

for i in "${!users[@]}"; do
  user="${users[$i]}"
  var="${vars[$i]}"
  password_line "$user" "${!var}" >>"$tmp"
  acl_block "$user" "${roles[$i]}" >>"$acl_tmp"
  echo "mosquitto-passwords: user $user (${roles[$i]}, $var)" >&2
done

chmod 0600 "$tmp"
chmod 0644 "$acl_tmp"
if [[ "$(id -u)" == 0 ]]; then
  chown "${MOSQUITTO_UID:-1883}:${MOSQUITTO_GID:-1883}" "$tmp" "$acl_tmp"
fi
mv -f "$tmp" "$out"
mv -f "$acl_tmp" "$acl_out"
trap - EXIT
echo "mosquitto-passwords: wrote ${#users[@]} user(s) to $out (mode 0600) and $acl_out" >&2
