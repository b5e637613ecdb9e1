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
	openssl linux-config-6.1:s390x
)
# linux-config-6.1 ships the configs of its own architecture only: Debian's
# s390x config (make distro) comes from the s390x package, which needs s390x
# as a foreign architecture of dpkg.
foreign=s390x

missing=()
for p in "${pkgs[@]}"; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0

add_arch=
if ! dpkg --print-foreign-architectures | grep -x "$foreign" >/dev/null; then
	add_arch="dpkg --add-architecture $foreign && apt-get update && "
fi
if [ "$(id -u)" != 0 ]; then
	die "missing packages: ${missing[*]}
run as root: ${add_arch}apt-get install ${missing[*]}"
fi
mkdir -p "$WB_BUILD"
note "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$add_arch" ]; then
	dpkg --add-architecture "$foreign" || die "dpkg --add-architecture $foreign failed"
fi
apt-get update -q >/dev/null ||
	die "apt-get update failed: check the network and /etc/apt/sources.list"
apt-get install -y -q --no-install-recommends "${missing[@]}" >"$WB_BUILD/apt.log" 2>&1 ||
	{ tail -n 20 "$WB_BUILD/apt.log" >&2; die "apt-get install ${missing[*]} failed (log: $WB_BUILD/apt.log)"; }
