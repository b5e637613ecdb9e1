#!/usr/bin/awk -f
# Checks that a benchmark CSV is well formed: the header, nine fields a row,
# known kernels, numbers where numbers belong, min <= median <= max, and the
# rows every report needs. Prints what is wrong; exits 1 if anything is.
BEGIN { FS = ","; bad = 0 }
function err(msg) { print "line " NR ": " msg; bad = 1 }
NR == 1 {
	if ($0 != "kernel,mode,workload,metric,median,min,max,unit,runs")
		err("header is \"" $0 "\"")
	next
}
{
	if (NF != 9) { err(NF " fields"); next }
	if ($1 !~ /^(base|series|limit)$/) err("unknown kernel " $1)
	for (i = 5; i <= 7; i++)
		if ($i !~ /^-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$/) err("field " i " is not a number: " $i)
	if ($9 !~ /^[1-9][0-9]*$/) err("runs is " $9)
	if ($6 + 0 > $5 + 0 || $5 + 0 > $7 + 0) err("not min <= median <= max")
	have[$1 "/" $2 "/" $3 "/" $4] = 1
	if ($4 == "throughput" && $5 + 0 <= 0) err("throughput " $5)
}
END {
	split("base/default series/default series/strict limit/default " \
	      "base/default@cache=none series/default@cache=none " \
	      "series/strict@cache=none limit/default@cache=none", need, " ")
	for (i in need)
		if (!((need[i] "/blk-read-4k/throughput") in have))
			{ print "missing: " need[i] " blk-read-4k throughput"; bad = 1 }
	split("base/default series/default base/default@cache=none series/default@cache=none", need2, " ")
	for (i in need2) {
		if (!((need2[i] "/blk-read/rpcit-per-mib") in have))
			{ print "missing: " need2[i] " blk-read rpcit-per-mib"; bad = 1 }
		if (!((need2[i] "/dma-map-t1-g1/map-latency") in have))
			{ print "missing: " need2[i] " dma-map-t1-g1 map-latency"; bad = 1 }
	}
	exit bad
}
