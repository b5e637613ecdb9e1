#!/usr/bin/env bash
# make bench: the series against the unpatched base, side by side. Builds
# both from the same tree with the same config, boots the matrix in
# tests/bench/matrix BENCH_RUNS times (kernels alternate within each run),
# and reports medians: a table here, build/bench/bench.csv and
# build/bench/bench.png. Timings are reported, never judged.
#   BENCH_RUNS (3), BENCH_MIB (256 MiB read per block size),
#   BENCH_SECONDS (3 s per DMA map benchmark run), BENCH_BS (4,64,1024 KiB),
#   BENCH_OUT (build/bench), BENCH_MATRIX (tests/bench/matrix)
# A matrix may name kernels besides base, series and limit (an earlier
# version of the series, say): kernel NAME boots from the directory in
# BENCH_OBJ_NAME, which must be set, and may give the skips the base may.
# BENCH_OBJ and BENCH_BASE_OBJ, both or neither, name directories that
# already hold the two kernels (each with the O= layout: the image and the
# modules); nothing is built then. make test uses them to boot copies of
# what its builds made.
# A mode NAME@GROUP is reported in the table of GROUP, against the base and
# the limit of the same group (the matrix's disk cache modes, say).
# BENCH_COSTS="U:N ..." sweeps a cost added to every RPCIT, U us each and N
# ns per page refreshed, as a hypervisor that shadows the I/O translation
# tables adds it: every line of the matrix boots once per cost, its group
# gets "rpcit=Uus+Nns". The kernels are then the base and the series with
# bench/rpcit-cost.diff, built in build/obj/bench-{base-,}s390x-qemu (or
# given by BENCH_OBJ and BENCH_BASE_OBJ, which must have the knob).
. "$(dirname "$0")/lib.sh"

runs=${BENCH_RUNS:-3}
mib=${BENCH_MIB:-256}
secs=${BENCH_SECONDS:-3}
bs=${BENCH_BS:-4,64,1024}
cfg=s390x-qemu
out=${BENCH_OUT:-$WB_BUILD/bench}
matrix=${BENCH_MATRIX:-$WB_TOP/tests/bench/matrix}
[ -f "$matrix" ] || die "no benchmark matrix $matrix"
for v in "$runs" "$mib" "$secs"; do
	[[ "$v" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS, BENCH_MIB and BENCH_SECONDS must be positive integers"
done
[[ "$bs" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "BENCH_BS must be a comma-separated list of KiB sizes"
costs=${BENCH_COSTS:-}
for c in $costs; do
	[[ "$c" =~ ^[0-9]+:[0-9]+$ ]] || die "BENCH_COSTS: '$c' is not U:N (us per RPCIT, ns per page refreshed)"
done

# knob_tree DIR REV: a work tree of the kernel repository at REV with
# bench/rpcit-cost.diff applied. Kept between runs, so that only what the
# diff or REV changes is built again.
knob_tree() {
	local dir=$1 rev
	rev=$(git -C "$WB_SRC" rev-parse --verify -q "$2^{commit}") || die "no $2 in $WB_SRC"
	[ -d "$dir" ] || git -C "$WB_SRC" worktree add -q --detach "$dir" "$rev" >&2 ||
		die "cannot make the work tree $dir"
	git -C "$dir" checkout -q -f --detach "$rev" || die "cannot check $rev out in $dir"
	git -C "$dir" apply "$WB_TOP/bench/rpcit-cost.diff" ||
		die "bench/rpcit-cost.diff does not apply to $2 ($rev)"
}

series_obj=${BENCH_OBJ:-}
base_obj=${BENCH_BASE_OBJ:-}
# shellcheck disable=SC1090
image=$(basename "$(. "$WB_TOP/configs/${cfg%%-*}.qemu" && echo "$KERNEL_IMAGE")")
if [ -z "$series_obj$base_obj" ]; then
	series_obj=$WB_OBJ/$cfg
	base_obj=$WB_OBJ/base-$cfg
	"$WB_TOP/scripts/tree.sh" >&2
	"$WB_TOP/scripts/basetree.sh" >&2
	series_src=$WB_SRC base_src=$WB_BASE_SRC
	if [ -n "$costs" ]; then
		series_obj=$WB_OBJ/bench-$cfg
		base_obj=$WB_OBJ/bench-base-$cfg
		series_src=$WB_BUILD/src/bench-series
		base_src=$WB_BUILD/src/bench-base
		knob_tree "$series_src" HEAD
		knob_tree "$base_src" base
	fi
	"$WB_TOP/scripts/build.sh" "$cfg" "$series_src" "$series_obj" >&2
	# The unpatched kernel's image only: no benchmark boot loads a module.
	"$WB_TOP/scripts/build.sh" "$cfg" "$base_src" "$base_obj" -- "$image" >&2
	"$WB_TOP/scripts/guest.sh" >&2
elif [ -z "$series_obj" ] || [ -z "$base_obj" ]; then
	die "BENCH_OBJ and BENCH_BASE_OBJ go together: set both or neither"
fi
rm -rf "$out"
mkdir -p "$out"
raw=$out/raw.tsv
: >"$raw"
failed=0

# Metrics of one boot's console log, as kernel mode workload metric value unit.
metrics() {
	awk -v k="$1" -v m="$2" '
	function row(w, n, v, u) { printf "%s\t%s\t%s\t%s\t%s\t%s\n", k, m, w, n, v, u }
	/# blkread bs=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		b = f["bs"] / 1024
		row("blk-read-" (b >= 1024 ? b / 1024 "m" : b "k"), "throughput", f["mibps"], "MiB/s")
		bytes += f["bytes"]
	}
	/# dmabench threads=/ {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		w = "dma-map-t" f["threads"] "-g" f["granule"]
		row(w, "map-latency", f["map_us"], "us")
		row(w, "unmap-latency", f["unmap_us"], "us")
	}
	/# stats [^ ]+ virtio-blk: / {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		s_rpcit = f["rpcit"]; s_mapped = f["mapped"]
		s_flush = (f["global_rpcit"] == -1) ? -1 : f["global_rpcit"] + f["sync_rpcit"]
		s_map = f["sync_map_rpcit"]
		have_stats = 1
	}
	END {
		if (!have_stats || bytes == 0)
			exit
		mibs = bytes / 1048576
		row("blk-read", "rpcit-per-mib", s_rpcit / mibs, "RPCIT/MiB")
		if (s_mapped > 0)
			row("blk-read", "rpcit-per-mapped-page", s_rpcit / s_mapped, "RPCIT/page")
		if (s_flush >= 0) {
			row("blk-read", "own-rpcit-per-mib", (s_flush + s_map) / mibs, "RPCIT/MiB")
			# The flushes for unmaps (the queue drains, or each
			# unmap in strict mode) apart from the RPCITs of maps.
			row("blk-read", "flush-rpcit-per-mib", s_flush / mibs, "RPCIT/MiB")
			row("blk-read", "map-rpcit-per-mib", s_map / mibs, "RPCIT/MiB")
		}
	}' "$3"
}

# The skips only the base may give (a SKIP fails a boot unless allowed).
# shellcheck disable=SC1091
base_allow=$(. "$WB_TOP/tests/bench/blk.test" && echo "${BASE_ALLOW_SKIP:-}")
# The matrix once per cost of BENCH_COSTS (or once, as it is), as kernel
# mode devices extra: a cost goes into the mode's group and the parameters.
lines() {
	local c kernel mode devices extra grp
	for c in ${costs:-none}; do
		while IFS='|' read -r kernel mode devices extra; do
			case "$kernel" in '' | \#*) continue ;; esac
			if [ "$c" != none ]; then
				grp="rpcit=${c%%:*}us+${c##*:}ns"
				case $mode in
				*@*) mode=$mode,$grp ;;
				*) mode=$mode@$grp ;;
				esac
				extra="$extra wb_rpcit_us=${c%%:*} wb_rpcit_page_ns=${c##*:}"
			fi
			echo "$kernel|$mode|$devices|$extra"
		done <"$matrix"
	done
}

for r in $(seq 1 "$runs"); do
	while IFS='|' read -r kernel mode devices extra; do
		obj=$series_obj allow=''
		case "$kernel" in
		base) obj=$base_obj allow=$base_allow ;;
		series | limit) ;;
		*)
			[[ "$kernel" =~ ^[A-Za-z0-9_]+$ ]] || die "$matrix: bad kernel name '$kernel'"
			var=BENCH_OBJ_$kernel
			obj=${!var:-} allow=$base_allow
			[ -n "$obj" ] || die "$matrix names kernel $kernel: set $var to its build directory"
			;;
		esac
		name=$(basename "$out")-$kernel-$(tr -c 'A-Za-z0-9_.\n-' _ <<<"$mode")-$r
		note "run $r/$runs: $kernel $mode"
		WB_ALLOW_SKIP=$allow WB_DEVICES=$devices "$WB_TOP/scripts/boot.sh" bench/blk "$obj" "$name" \
			"wb.bench.mib=$mib wb.bench.seconds=$secs wb.bench.bs=$bs $extra" >"$out/$name.res"
		if grep -q $'^R\tFAIL' "$out/$name.res"; then
			echo "bench: $name failed, see $WB_BUILD/runs/$name/:" >&2
			grep -A3 $'^R\tFAIL' "$out/$name.res" | cut -f2- | head -n 12 >&2
			failed=1
			continue
		fi
		log=$WB_BUILD/runs/$name/console.log
		# A kernel without the knob passes the cost on to init unread
		if [ -n "$costs" ] && grep -q 'Unknown kernel command line parameters.*wb_rpcit' "$log"; then
			echo "bench: $name: the kernel has no RPCIT cost knob (bench/rpcit-cost.diff)" >&2
			failed=1
			continue
		fi
		metrics "$kernel" "$mode" "$log" >>"$raw"
	done < <(lines)
done

# Medians per kernel, mode, workload and metric.
csv=$out/bench.csv
echo "kernel,mode,workload,metric,median,min,max,unit,runs" >"$csv"
sort -t$'\t' -k1,4 -k5,5g "$raw" | awk -F'\t' '
	function flush() {
		if (n == 0) return
		med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		printf "%s,%s,%s,%s,%.4g,%.4g,%.4g,%s,%d\n", pk, pm, pw, pn, med, v[1], v[n], pu, n
		n = 0
	}
	{ key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
	  if (key != last) { flush(); last = key; pk = $1; pm = $2; pw = $3; pn = $4; pu = $6 }
	  v[++n] = $5 }
	END { flush() }' >>"$csv"

"$WB_TOP/scripts/bench-report.sh" "$csv"
[ $failed = 0 ] || die "some benchmark boots failed; their figures are missing"
