#!/usr/bin/env bash
# make deps: install what the workbench needs from Debian, when it is missing.
# As root it runs apt-get; otherwise it names what to install and fails.
. "$(dirname "$0")/lib.sh"

pkgs=(
	linux-source-6.1 xz-utils git make gcc libc6-dev bc flex bison
	libssl-dev libelf-dev cpio kmod python3 perl python3-ply python3-git
	gcc-s390x-linux-gnu libc6-dev-s390x-cross binutils-s390x-linux-gnu
	gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf
	gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
	qemu-system-misc qemu-system-x86 socat sparse codespell gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

if [ "$(id -u)" != 0 ]; then
	die "missing packages: ${missing[*]}
run as root: apt-get install ${missing[*]}"
fi
mkdir -p "$WB_BUILD"
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null ||
	die "apt-get update failed: check the network and /etc/apt/sources.list"
apt-get install -y -q --no-install-recommends "${missing[@]}" >"$WB_BUILD/apt.log" 2>&1 ||
	{ tail -n 20 "$WB_BUILD/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $WB_BUILD/apt.log)"; }
