#!/bin/sh
# Fails when any plugin library exports a dynamic symbol other than the entry symbol.
# Usage: check_exports.sh DIR...
set -eu
status=0
count=0
for dir in "$@"; do
  [ -d "$dir" ] || continue
  for lib in "$dir"/plughost_*.so; do
    [ -f "$lib" ] || continue
    # Only libraries that are plugins (have the entry symbol) are held to the rule.
    if ! nm -D --defined-only "$lib" 2>/dev/null | grep -q ' plughost_plugin_entry$'; then
      continue
    fi
    count=$((count + 1))
    extra=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -v '^plughost_plugin_entry$' || true)
    if [ -n "$extra" ]; then
      echo "FAIL $lib exports more than the entry symbol:" >&2
      echo "$extra" | sed 's/^/  /' >&2
      status=1
    fi
  done
done
if [ "$count" -eq 0 ]; then
  echo "FAIL no plugin libraries found in: $*" >&2
  exit 1
fi
echo "checked $count plugin libraries"
exit $status
