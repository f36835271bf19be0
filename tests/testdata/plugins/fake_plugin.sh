#!/bin/sh
# A fake CNI plugin, after libcni's `noop` test plugin. It lives in a
# per-test bin dir and keeps its state next to itself, so it needs no
# environment of its own:
#   calls/<n>.stdin, calls/<n>.env   what call n received
#   calls/log                        "<n> <type> <CNI_COMMAND>" per call
#   answer/<type>.<COMMAND>.{stdout,stderr,exit,sleep}   what to answer
# Without an answer file ADD prints {"cniVersion": <the config's>}.
dir=$(dirname "$0")
self=$(basename "$0")
mkdir -p "$dir/calls"
# Calls of one chain are sequential; the lock guards parallel pods.
n=$(
  flock "$dir/calls/.lock" sh -c '
    n=$(($(cat "$1/calls/.seq" 2>/dev/null || echo 0) + 1))
    echo "$n" > "$1/calls/.seq"
    echo "$n $2 $3" >> "$1/calls/log"
    echo "$n"' _ "$dir" "$self" "$CNI_COMMAND"
)
cat > "$dir/calls/$n.stdin"
env | sort > "$dir/calls/$n.env"
answer="$dir/answer/$self.$CNI_COMMAND"
[ -f "$answer.stderr" ] && cat "$answer.stderr" >&2
if [ -f "$answer.sleep" ]; then
  sleep "$(cat "$answer.sleep")" &
  wait
fi
if [ -f "$answer.stdout" ]; then
  cat "$answer.stdout"
elif [ "$CNI_COMMAND" = ADD ]; then
  # The first cniVersion is the injected one; prevResult comes after it.
  version=$(grep -o '"cniVersion":"[^"]*"' "$dir/calls/$n.stdin" | head -n 1 | cut -d'"' -f4)
  printf '{"cniVersion":"%s"}\n' "$version"
elif [ "$CNI_COMMAND" = VERSION ]; then
  printf '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n'
fi
[ -f "$answer.exit" ] && exit "$(cat "$answer.exit")"
exit 0
