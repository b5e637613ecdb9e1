#!/usr/bin/env bash
# The benchmark's table and chart from its CSV: bench-report.sh build/bench/bench.csv
# Each figure is a median with its ratio to the base; throughput also as a
# fraction of the no-IOMMU limit.
. "$(dirname "$0")/lib.sh"

csv=${1:?usage: bench-report.sh CSV}
[ -f "$csv" ] || die "no $csv: run 'make bench' first"
out=$(dirname "$csv")

echo
echo "base:   $(cat "$WB_SRC/.git/wb-base-version" 2>/dev/null || echo unknown)"
echo "series: $(wb_series | wc -l) patches; medians of $(awk -F, 'NR == 2 { print $9 }' "$csv") runs, QEMU TCG, 2 vCPUs"
echo
awk -F, '
function rank(c) { return (c ~ /^base\//) ? 0 : (c ~ /^limit\//) ? 2 : 1 }
NR == 1 { next }
{
	col = $1 "/" $2; row = $3 " " $4
	if (!(col in seen)) { seen[col] = 1; cols[++nc] = col }
	if (!(row in rseen)) { rseen[row] = 1; rows[++nr] = row; unit[row] = $8 }
	med[row, col] = $5
}
END {
	# base first, the series modes, the limit last.
	for (i = 1; i <= nc; i++)
		for (j = i + 1; j <= nc; j++)
			if (rank(cols[j]) < rank(cols[i])) { tmpc = cols[i]; cols[i] = cols[j]; cols[j] = tmpc }
	printf "%-18s %-22s %-10s", "workload", "metric", "unit"
	for (c = 1; c <= nc; c++) printf " %26s", cols[c]
	printf "\n"
	for (r = 1; r <= nr; r++) {
		row = rows[r]; split(row, wm, " ")
		printf "%-18s %-22s %-10s", wm[1], wm[2], unit[row]
		base = ((row, "base/default") in med) ? med[row, "base/default"] : 0
		lim = ((row, "limit/default") in med) ? med[row, "limit/default"] : 0
		for (c = 1; c <= nc; c++) {
			if (!((row, cols[c]) in med)) { printf " %26s", "-"; continue }
			v = med[row, cols[c]]; s = sprintf("%.4g", v)
			if (cols[c] != "base/default" && base > 0)
				s = s sprintf(" %.2fx", v / base)
			if (wm[2] == "throughput" && cols[c] != "limit/default" && lim > 0)
				s = s sprintf(" %.0f%%lim", 100 * v / lim)
			printf " %26s", s
		}
		printf "\n"
	}
}' "$csv" | tee "$out/bench.txt"
echo
echo "csv:   $csv"

command -v gnuplot >/dev/null || { echo "chart: gnuplot not installed (make deps)"; exit 0; }
# One data file per panel: a row per workload, a column per kernel/mode.
awk -F, -v out="$out" '
function rank(c) { return (c ~ /^base\//) ? 0 : (c ~ /^limit\//) ? 2 : 1 }
NR == 1 { next }
{
	col = $1 "/" $2
	if (!(col in seen)) { seen[col] = 1; cols[++nc] = col }
	if ($4 == "throughput") { if (!($3 in tw)) { tw[$3] = 1; trow[++nt] = $3 }; t[$3, col] = $5 }
	if ($4 == "rpcit-per-mib") r[col] = $5
}
END {
	for (i = 1; i <= nc; i++)
		for (j = i + 1; j <= nc; j++)
			if (rank(cols[j]) < rank(cols[i])) { tmpc = cols[i]; cols[i] = cols[j]; cols[j] = tmpc }
	f = out "/throughput.dat"; printf "workload" > f
	for (c = 1; c <= nc; c++) printf " %s", cols[c] > f
	printf "\n" > f
	# Smallest block size first.
	for (i = 1; i <= nt; i++) {
		kib[i] = trow[i]; sub(/^.*-/, "", kib[i])
		kib[i] = (kib[i] ~ /m$/) ? kib[i] * 1024 : kib[i] + 0
	}
	for (i = 1; i <= nt; i++)
		for (j = i + 1; j <= nt; j++)
			if (kib[j] < kib[i]) {
				t1 = kib[i]; kib[i] = kib[j]; kib[j] = t1
				t1 = trow[i]; trow[i] = trow[j]; trow[j] = t1
			}
	for (i = 1; i <= nt; i++) {
		printf "%s", trow[i] > f
		for (c = 1; c <= nc; c++) printf " %s", ((trow[i], cols[c]) in t) ? t[trow[i], cols[c]] : "NaN" > f
		printf "\n" > f
	}
	f = out "/rpcit.dat"
	for (c = 1; c <= nc; c++) printf "%s %s\n", cols[c], (cols[c] in r) ? r[cols[c]] : "NaN" > f
	print nc > (out "/ncols")
}' "$csv"
nc=$(cat "$out/ncols")
gnuplot <<EOF
set terminal pngcairo size 1200,520 font ",10" noenhanced
set output "$out/bench.png"
set multiplot layout 1,2 title "s390 PCI DMA: base vs series (QEMU TCG, medians)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top left
set title "virtio-blk O_DIRECT sequential read (log scale)"
set ylabel "MiB/s"
set logscale y
plot for [i=2:$((nc + 1))] "$out/throughput.dat" using i:xtic(1) title columnheader(i)
set title "RPCITs per MiB read (QEMU measurement block)"
set ylabel "RPCIT/MiB"
unset logscale y
set yrange [0:*]
set key off
set xtics rotate by -30
plot "$out/rpcit.dat" using 2:xtic(1) lc rgb "#4477aa"
unset multiplot
EOF
echo "chart: $out/bench.png"
