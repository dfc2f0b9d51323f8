# Reads a Thread Sanitizer log (scripts/test.sh's GoAllocTests run) and fails (exit 1) if any report is not the
# allocator's known artifact: a "Swift access race" whose accesses are all instrumented inout accesses or
# atomics (no plain "Read/Write of size" line on either side) and whose SUMMARY points into GoAlloc's sources,
# its atomic shims (CGoRuntime) or a GoAlloc symbol ($s7GoAlloc / $sSp7GoAlloc, not the tests' own
# $s12GoAllocTests...). Prints every failing SUMMARY line, then the count of artifacts ignored.
/WARNING: ThreadSanitizer:/ { inrep = 1; access = ($0 ~ /Swift access race/); plain = 0; next }
inrep && /^  (Previous )?(read|write|Read|Write) of size/ { plain = 1 }
inrep && /^SUMMARY: ThreadSanitizer:/ {
    inrep = 0
    ours = ($0 ~ /\/Sources\/GoAlloc\/|\/Sources\/CGoRuntime\/| in \$s(Sp)?7GoAlloc/)
    # free's fast path (MCache.free) reads MSpan.owner with a plain load on purpose (Free.swift says why).
    if ($0 ~ /data race .*Free\.swift.* in \$sSp7GoAllocAA6MCacheVRszlE4free_4callySu_s12StaticStringVtF$/) { benign++; next }
    if (access && !plain && ours) { ignored++ } else { bad++; print }
}
END {
    printf "%d Swift access races in GoAlloc's own frames ignored, %d reads of MSpan.owner by free's fast path, %d other reports\n", ignored, benign, bad
    exit (bad > 0)
}
