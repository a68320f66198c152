# Sourced by scripts/test and scripts/demo: starts the real test NetBox (../shared/netbox/netbox-up)
# and exports NETBOX_URL, NETBOX_TOKEN, NETBOX_TOKEN_V2, ... into the calling shell.
#
# Why not `eval "$(netbox-up)"`: when netbox-up has to start NetBox, the shells that launch its
# web server and worker keep netbox-up's stdout and stderr open for NetBox's whole life. A
# command substitution (or a CI runner reading our output through a pipe) then waits for an
# end of file that never comes. Files have no such reader to block, so both streams go to files.
start_test_netbox() {
  local up=../shared/netbox/netbox-up
  [ -x "$up" ] || return 0
  local out
  out=$(mktemp -d)
  if ! timeout 900 "$up" >"$out/env" 2>"$out/log" </dev/null; then
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
