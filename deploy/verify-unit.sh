#!/usr/bin/env bash
# Verifies deploy/racepilot.service with systemd-analyze on any machine, CI included.
#
# `systemd-analyze verify` fails when the ExecStart binary does not exist, and only warns (exit 0) about unknown
# keys or bad values. So: if /usr/bin/node (the drone's node) is missing here, a copy of the unit is verified with
# ExecStart pointed at `true`, and any warning that names the unit counts as a failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
unit="$here/racepilot.service"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "verify-unit: systemd-analyze not found (apt-get install systemd)" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/racepilot.service"
exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
if [[ -x "$exe" ]]; then
  cp "$unit" "$copy"
else
  stand_in=$(type -P true)
  echo "verify-unit: $exe is not on this machine; verifying a copy with ExecStart=$stand_in ..."
  sed "s#^ExecStart=$exe #ExecStart=$stand_in #" "$unit" >"$copy"
fi

if ! out=$(systemd-analyze verify "$copy" 2>&1); then
  printf '%s\n' "$out" >&2
  echo "verify-unit: FAILED" >&2
  exit 1
fi
if grep -F 'racepilot.service' <<<"$out" >&2; then
  echo "verify-unit: FAILED (warnings about the unit above)" >&2
  exit 1
fi
echo "verify-unit: racepilot.service OK"
