#!/bin/sh
# Starts aerie in a container.
#
# With AERIE_CONFIG_TEMPLATE set (Kubernetes), the template is rendered to AERIE_CONFIG
# (default /tmp/aerie.conf) first, replacing:
#   @POD_IP@   $POD_IP (the address peers and clients dial), default 127.0.0.1
#   @RACK_ID@  $RACK_ID, default 0
#   @NODE_ID@  $NODE_ID, else derived from the rack and the StatefulSet ordinal (the number
#              after the last '-' of the host name): A, 5 hex digits of rack, 4 of ordinal,
#              so a pod keeps its node id across restarts and rescheduling.
# Without a template, AERIE_CONFIG is used if it exists, else the built-in configuration
# (which listens on 127.0.0.1 only).
# AERIE_RENDER_ONLY=1 prints the rendered configuration and exits.
set -eu

if [ "${1:-server}" != "server" ]; then
    exec /usr/local/bin/aerie "$@"
fi
shift || true

config="${AERIE_CONFIG:-/tmp/aerie.conf}"
if [ -n "${AERIE_CONFIG_TEMPLATE:-}" ]; then
    rack="${RACK_ID:-0}"
    case "$rack" in
        ''|*[!0-9]*) echo "RACK_ID must be a number, got '$rack'" >&2; exit 2 ;;
    esac
    host="${HOSTNAME:-$(hostname)}"
    ordinal="${host##*-}"
    case "$ordinal" in
        ''|*[!0-9]*) ordinal=0 ;;
    esac
    node_id="${NODE_ID:-$(printf 'A%05X%04X' "$rack" "$ordinal")}"
    sed -e "s/@POD_IP@/${POD_IP:-127.0.0.1}/g" \
        -e "s/@RACK_ID@/${rack}/g" \
        -e "s/@NODE_ID@/${node_id}/g" \
        "$AERIE_CONFIG_TEMPLATE" > "$config"
    if [ "${AERIE_RENDER_ONLY:-0}" = "1" ]; then
        cat "$config"
        exit 0
    fi
fi

if [ -f "$config" ]; then
    exec /usr/local/bin/aerie server --config "$config" "$@"
fi
exec /usr/local/bin/aerie server "$@"
