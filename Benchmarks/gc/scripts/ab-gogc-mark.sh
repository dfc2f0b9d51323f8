#!/bin/bash
# A/B helper for GoGC work: binary-trees DEPTH on each given bench-gc binary, RUNS rounds, interleaved. Per run:
# CPU s (user+sys), wall s, max RSS KiB, collections, mark CPU s (assist + background + idle, summed from
# gctrace), mark CPU ms per MB marked (gctrace's marked heap, summed), and CPU outside marking.
#   Benchmarks/gc/scripts/ab-gogc-mark.sh 19 3 /tmp/bench-gc.before /tmp/bench-gc.after
d=$1; n=$2; shift 2
uptime
for i in $(seq "$n"); do
  for b in "$@"; do
    GODEBUG=gctrace=1 /usr/bin/time -o /tmp/ab-time.txt -f "%U %S %e %M" "$b" binary-trees "$d" gogc >/dev/null 2>/tmp/ab-err.txt
    read -r u s e m < /tmp/ab-time.txt
    cpu=$(echo "$u + $s" | bc)
    grep '^gc ' /tmp/ab-err.txt | awk -v name="$(basename "$b")" -v cpu="$cpu" -v wall="$e" -v rss="$m" '
      { split($0, f, "ms clock, "); split(f[2], c, " ms cpu"); split(c[1], parts, "+"); split(parts[2], mk, "/");
        mark += mk[1] + mk[2] + mk[3];
        for (i = 1; i <= NF; i++) if ($i == "MB,") { split($(i-1), h, "->"); marked += h[3] } ; n++ }
      END { printf "%-16s cpu %6.2f wall %6s rss %7d gcs %4d markcpu %6.2f ms/MB %.3f nonmark %6.2f\n",
            name, cpu, wall, rss, n, mark/1000, mark/marked, cpu - mark/1000 }'
  done
done
uptime
