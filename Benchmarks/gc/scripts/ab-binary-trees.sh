#!/bin/bash
# A/B helper for GoGC work (not part of `gort bench gc`): binary-trees DEPTH on each given bench-gc binary,
# then on Go and Boehm (built by `gort bench gc` next to gort), RUNS rounds, interleaved. Prints per run: CPU s
# (user+sys), wall s, max RSS KiB, collections. Load average before and after.
#   Benchmarks/gc/scripts/ab-binary-trees.sh 21 1 /tmp/bench-gc.before /tmp/bench-gc.after
# RELEASE: directory holding bench-gc-go and bench-gc-boehm (default .build/release).
d=$1; n=$2; shift 2
R=${RELEASE:-.build/release}
uptime
for i in $(seq "$n"); do
  for b in "$@" go boehm; do
    case $b in
      go) cmd="$R/bench-gc-go binary-trees $d";;
      boehm) cmd="$R/bench-gc-boehm binary-trees $d";;
      *) cmd="$b binary-trees $d gogc";;
    esac
    GODEBUG=gctrace=1 /usr/bin/time -o /tmp/ab-time.txt -f "%U %S %e %M" $cmd >/tmp/ab-out.txt 2>/tmp/ab-err.txt
    read -r u s e m < /tmp/ab-time.txt
    echo "$(basename "$b") cpu $(echo "$u + $s" | bc) wall $e rss $m gcs $(cat /tmp/ab-err.txt /tmp/ab-out.txt | grep -c '^gc \|bench-gc-pause')"
  done
done
uptime
