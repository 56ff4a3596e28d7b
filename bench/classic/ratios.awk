# ratios.awk: dynamutex/classic ratios per round from run.sh's raw results.
# benchstat compares medians; a ratio taken within each round, whose
# sub-benchmarks ran back to back, is less exposed to load that drifts
# between rounds, so both are worth a look.
/^Benchmark/ {
	name = $1
	sub(/^Benchmark/, "", name)
	sub(/-[0-9]+$/, "", name)
	r = ++round[name]
	if (r > rounds) rounds = r
	v[name " ns/op", r] = $3
	for (i = 5; i < NF; i += 2) v[name " " $(i + 1), r] = $i
}

# ratio prints a/b per round and its median; with b empty, a's values.
function ratio(label, a, b,    r, n, x, line, i, j, t) {
	n = 0
	line = ""
	for (r = 1; r <= rounds; r++) {
		if (!((a, r) in v)) continue
		if (b == "") x[++n] = v[a, r]
		else if (!((b, r) in v) || v[b, r] == 0) continue
		else x[++n] = v[a, r] / v[b, r]
		line = line sprintf(" %.2f", x[n])
	}
	if (n == 0) return
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
	printf "%-46s %6.3f  rounds:%s\n", label, (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2), line
}

END {
	printf "%-46s %6s  %s\n", "ratio", "median", "per round"
	ratio("cycle time, dynamutex/classic", "Cycle/dynamutex ns/op", "Cycle/classic ns/op")
	ratio("cycle time, floor raw-two/raw-read-two", "Cycle/raw-two-writes ns/op", "Cycle/raw-read-two-writes ns/op")
	ratio("cycle time, dynamutex/raw-two-writes", "Cycle/dynamutex ns/op", "Cycle/raw-two-writes ns/op")
	ratio("cycle time, classic/raw-read-two-writes", "Cycle/classic ns/op", "Cycle/raw-read-two-writes ns/op")
	ratio("interleaved, dynamutex/classic (means)", "CycleInterleaved dynamutex/classic", "")
	ratio("interleaved, floor (means)", "CycleInterleaved floor", "")
	ratio("interleaved, dynamutex/classic (medians)", "CycleInterleaved dynamutex/classic-med", "")
	ratio("interleaved, floor (medians)", "CycleInterleaved floor-med", "")
	for (k = 0; k < 2; k++) {
		h = k ? "Handoff8Yield" : "Handoff8"
		ratio(h " p50, dynamutex/classic", h "/dynamutex p50-ms", h "/classic p50-ms")
		ratio(h " p99, dynamutex/classic", h "/dynamutex p99-ms", h "/classic p99-ms")
		ratio(h " requests/acq, dynamutex/classic", h "/dynamutex requests/acq", h "/classic requests/acq")
	}
}
