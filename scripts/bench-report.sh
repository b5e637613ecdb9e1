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
function fig(row, col) { return ((row, col) in med) ? med[row, col] : "" }
# One line of the targets: what, the figure, what it is held to, met or not.
function target(what, v, ref, limit, le, refname,   r, ok) {
	if (v == "" || ref == "" || ref + 0 == 0) {
		printf "  %-44s %s\n", what, "no figure"
		return
	}
	r = v / ref
	ok = le ? (r <= limit) : (r >= limit)
	printf "  %-44s %10.4g vs %-8s %10.4g  %5.2fx (%s %.2fx)  %s\n", what, v, refname, ref, r,
		le ? "<=" : ">=", limit, ok ? "met" : "NOT MET"
	tn++
	if (ok) tm++
}
NR == 1 { next }
{
	# A mode NAME@GROUP goes to the table of GROUP
	g = $2; m = $2
	if (index(m, "@")) { sub(/^[^@]*@/, "", g); sub(/@.*$/, "", m) } else g = ""
	if (!(g in gseen)) { gseen[g] = 1; groups[++ng] = g }
	col = $1 "/" m
	if (!((g, col) in seen)) { seen[g, col] = 1; cols[g, ++nc[g]] = col }
	row = $3 " " $4
	if (!(row in rseen)) { rseen[row] = 1; rows[++nr] = row; unit[row] = $8 }
	med[row, g, col] = $5
}
# A group name with its numbers padded, so that 5us sorts before 20us
function gkey(g,   k, m) {
	k = ""
	while (match(g, /[0-9]+/)) {
		k = k substr(g, 1, RSTART - 1) sprintf("%012d", substr(g, RSTART, RLENGTH))
		g = substr(g, RSTART + RLENGTH)
	}
	return k g
}
END {
	for (i = 1; i <= ng; i++)
		for (j = i + 1; j <= ng; j++)
			if (gkey(groups[j]) < gkey(groups[i])) { t = groups[i]; groups[i] = groups[j]; groups[j] = t }
	for (gi = 1; gi <= ng; gi++) {
		g = groups[gi]; n = nc[g]
		for (i = 1; i <= n; i++) c[i] = cols[g, i]
		# base first, the series modes, the limit last.
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (rank(c[j]) < rank(c[i])) { t = c[i]; c[i] = c[j]; c[j] = t }
		if (ng > 1 || g != "") printf "%s\n", (g == "" ? "disk cache=unsafe, no added RPCIT cost" : g)
		printf "%-18s %-22s %-10s", "workload", "metric", "unit"
		for (i = 1; i <= n; i++) printf " %26s", c[i]
		printf "\n"
		for (r = 1; r <= nr; r++) {
			row = rows[r]; split(row, wm, " ")
			have = 0
			for (i = 1; i <= n; i++) if ((row, g, c[i]) in med) have = 1
			if (!have) continue
			printf "%-18s %-22s %-10s", wm[1], wm[2], unit[row]
			base = ((row, g, "base/default") in med) ? med[row, g, "base/default"] : 0
			lim = ((row, g, "limit/default") in med) ? med[row, g, "limit/default"] : 0
			for (i = 1; i <= n; i++) {
				if (!((row, g, c[i]) in med)) { printf " %26s", "-"; continue }
				v = med[row, g, c[i]]; s = sprintf("%.4g", v)
				if (c[i] != "base/default" && base > 0)
					s = s sprintf(" %.2fx", v / base)
				if (wm[2] == "throughput" && c[i] != "limit/default" && lim > 0)
					s = s sprintf(" %.0f%%lim", 100 * v / lim)
				printf " %26s", s
			}
			printf "\n"
		}
		# The targets of the series default (issue 19), against the
		# kernels of the same group: met or not, never loosened.
		if (!(("blk-read-4k throughput", g, "series/default") in med)) { printf "\n"; continue }
		printf "targets of series/default:\n"
		tn = tm = 0
		for (k = 1; k <= nr; k++) {
			split(rows[k], wm, " ")
			if (wm[1] ~ /^dma-map-/ && wm[2] == "unmap-latency")
				target(wm[1] " unmap latency", med[rows[k], g, "series/default"],
				       med[rows[k], g, "base/default"], 1, 1, "base")
		}
		for (k = 1; k <= nr; k++) {
			split(rows[k], wm, " ")
			if (wm[1] ~ /^dma-map-/ && wm[2] == "map-latency")
				target(wm[1] " map latency", med[rows[k], g, "series/default"],
				       med[rows[k], g, "base/default"], 0.6, 1, "base")
		}
		for (k = 1; k <= nr; k++) {
			split(rows[k], wm, " ")
			if (wm[2] != "throughput") continue
			v = med[rows[k], g, "series/default"]
			target(wm[1] " against the base", v, med[rows[k], g, "base/default"], 1, 0, "base")
			target(wm[1] " against strict mode", v, med[rows[k], g, "series/strict"], 1, 0, "strict")
			if (wm[1] == "blk-read-1m")
				target(wm[1] " against the no-IOMMU limit", v,
				       med[rows[k], g, "limit/default"], 0.9, 0, "limit")
		}
		target("blk-read RPCITs per MiB", med["blk-read rpcit-per-mib", g, "series/default"],
		       med["blk-read rpcit-per-mib", g, "base/default"], 1, 1, "base")
		f = med["blk-read flush-rpcit-per-mib", g, "series/default"]
		a = med["blk-read own-rpcit-per-mib", g, "series/default"]
		if (a > 0 && (("blk-read flush-rpcit-per-mib", g, "series/default") in med))
			printf "  %-44s %10.4g of %.4g RPCIT/MiB (%.0f%%)\n", "of which flushes (drains, strict unmaps)", f, a, 100 * f / a
		printf "  %d of %d targets met\n\n", tm, tn
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
