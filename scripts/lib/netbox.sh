# Sourced by scripts/test and scripts/demo: starts the real test NetBox (../shared/netbox/netbox-up)
# and exports NETBOX_URL, NETBOX_TOKEN, NETBOX_TOKEN_V2, ... into the calling shell.
#
# Why not `eval "$(netbox-up)"`: when netbox-up has to start NetBox, the shells that launch its
# web server and worker keep netbox-up's stdout and stderr open for NetBox's whole life. A
# command substitution (or a CI runner reading our output through a pipe) then waits for an
# end of file that never comes. Files have no such reader to block, so both streams go to files.
start_test_netbox() {
  local dir=../shared/netbox
  [ -x "$dir/netbox-up" ] || return 0
  netbox_up "$dir" || return 1
  # NetBox runs custom scripts only while its background worker is registered in its Redis
  # (database 14); otherwise it answers 503 "RQ worker process not running". netbox-reset
  # flushes that database, and the worker that keeps running may take many minutes to
  # register again. A restart registers it at once.
  # With NETBOX_NO_RESTART=1 (scripts/demo: a NetBox tests may be using), only a warning.
  if [ "$(redis-cli -h 127.0.0.1 -n 14 scard rq:workers 2>/dev/null)" = 0 ]; then
    if [ "${NETBOX_NO_RESTART:-0}" = 1 ]; then
      echo "NetBox's worker is not registered: custom scripts answer 503 until it is" >&2
      return 0
    fi
    echo "NetBox's worker is not registered (after a netbox-reset?); restarting NetBox" >&2
    "$dir/netbox-down" >/dev/null 2>&1 || true
    netbox_up "$dir" || return 1
  fi
}

# Runs netbox-up with both streams in files, then exports what it printed.
netbox_up() {
  local out
  out=$(mktemp -d)
  if ! timeout 900 "$1/netbox-up" >"$out/env" 2>"$out/log" </dev/null; then
    cat "$out/log" >&2
    rm -rf "$out"
    echo "the test NetBox did not start (see above)" >&2
    return 1
  fi
  cat "$out/log" >&2
  # shellcheck disable=SC1091
  . "$out/env"
  # NetBox's processes may still hold the log open; unlinking it is harmless.
  rm -rf "$out"
}
