// SPDX-License-Identifier: GPL-2.0
/*
 * PID 1 of the workbench guest.
 *
 * Mounts what the workloads need, runs the workloads the host names on the
 * kernel command line (wb.run=blk,net,...) and reports in KTAP on the
 * console, then powers the machine off. Every byte a workload moves is
 * checked. Options, all on the kernel command line:
 *
 *   wb.run=W1,W2,...   workloads, in order (see the table at the end)
 *   wb.blk.mib=N       MiB per block size written and read back (default 32)
 *   wb.blk.threads=N   threads per block size (default 4)
 *   wb.net.mib=N       MiB sent each way through virtio-net (default 16)
 *   wb.bench.seconds=N seconds per DMA map benchmark run (default 2)
 *   wb.bench.bs=LIST   block sizes for blkread, in KiB (default 4,64,1024)
 *   wb.bench.mib=N     MiB read per blkread block size (default 64)
 *   wb.groups.min=N    functions the groups workload expects (default 1)
 *   wb.domain=TYPE     IOMMU group type every function must have
 *   wb.fq=MODE,SIZE,MS flush queue every function's group must have, as
 *                      its iommu_group/flush_queue reads with commas for
 *                      spaces ("none" without a flush queue)
 *   wb.stats=1         reset zPCI statistics before the first workload
 *                      (rpcitfail needs them)
 *   wb.kmemleak.age=N  seconds between the two kmemleak scans (default 6)
 *   wb.lkdtm=TYPE      what the warn self-test provokes (default WARNING)
 *
 * The kmemleak workload comes last: it scans for leaks of everything before
 * it, from the boot on, and fails if kmemleak is not in the kernel.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#define MIB (1024UL * 1024UL)
#define MAX_FN 32
#define PCI_VENDOR_VIRTIO 0x1af4
#define VIRTIO_NET 0x1041
#define VIRTIO_BLK 0x1042
#define VIRTIO_RNG 0x1044

/* ---------- KTAP ---------- */

static int ktap_depth;
static int ktap_num[4];
static bool ktap_failed[4];

static void ktap_line(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("%*s%s\n", ktap_depth * 4, "", buf);
	fflush(stdout);
}

#define diag(...) ktap_line("# " __VA_ARGS__)

static void ktap_plan(int n)
{
	ktap_line("KTAP version 1");
	ktap_line("1..%d", n);
	ktap_num[ktap_depth] = 0;
	ktap_failed[ktap_depth] = false;
}

static void ktap_result(bool ok, const char *name)
{
	ktap_num[ktap_depth]++;
	if (!ok)
		ktap_failed[ktap_depth] = true;
	ktap_line("%s %d %s", ok ? "ok" : "not ok", ktap_num[ktap_depth], name);
}

static void ktap_skip(const char *name, const char *why)
{
	ktap_num[ktap_depth]++;
	ktap_line("ok %d %s # SKIP %s", ktap_num[ktap_depth], name, why);
}

/* As KUnit does: the subtest's lines, its name included, are indented. */
static void ktap_begin(const char *name, int n)
{
	ktap_depth++;
	ktap_line("KTAP version 1");
	ktap_line("# Subtest: %s", name);
	ktap_line("1..%d", n);
	ktap_num[ktap_depth] = 0;
	ktap_failed[ktap_depth] = false;
}

/* Ends a subtest; its result is the AND of its own results and @ok. */
static void ktap_end(const char *name, bool ok)
{
	bool sub_ok = !ktap_failed[ktap_depth];

	ktap_depth--;
	ktap_result(ok && sub_ok, name);
}

/* ---------- helpers ---------- */

static char cmdline[4096];

/*
 * The value of KEY=... from /proc/cmdline, in a buffer of its own. As for
 * kernel parameters, the last occurrence wins.
 */
static const char *opt_str(const char *key, const char *def)
{
	const char *p = cmdline, *last = NULL;
	size_t klen = strlen(key);
	char *val;

	while ((p = strstr(p, key))) {
		if ((p == cmdline || p[-1] == ' ') && p[klen] == '=')
			last = p + klen + 1;
		p += klen;
	}
	if (!last)
		return def;
	val = strndup(last, strcspn(last, " \n"));
	return val ? val : def;
}

static long opt_long(const char *key, long def)
{
	const char *s = opt_str(key, NULL);

	return s ? strtol(s, NULL, 0) : def;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A seed for one pass of a byte pattern: @base (which names the workload)
 * mixed with a count of every seed handed out and with the boot's wall-clock
 * time, so that no two passes share one, however close in time, in one boot
 * or across boots on the same disk image: data a pass reads back can only
 * match if that very pass wrote it.
 */
static uint64_t seed_salt;

static void __attribute__((constructor)) seed_salt_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed_salt = (uint64_t)ts.tv_sec << 30 ^ (uint64_t)ts.tv_nsec;
}

static uint64_t pass_seed(uint64_t base)
{
	static uint64_t passes;
	uint64_t n = __atomic_add_fetch(&passes, 1, __ATOMIC_RELAXED);

	return base ^ seed_salt ^ (n * 0x9e3779b97f4a7c15ULL);
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while (total < (ssize_t)len - 1 &&
	       (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = 0;
	while (total > 0 && buf[total - 1] == '\n')
		buf[--total] = 0;
	return total;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

static unsigned long sysfs_ulong(const char *dir, const char *attr)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return ULONG_MAX;
	return strtoul(buf, NULL, 0);
}

/* Pattern word for byte offset @off of stream @seed: cheap, position-unique. */
static inline uint64_t pattern(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ULL ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

static void fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern(seed, off + i * 8);
}

/* Returns the index of the first wrong byte, or -1. */
static long check(const void *buf, size_t len, uint64_t seed, uint64_t off)
{
	const uint64_t *w = buf;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		if (w[i] != pattern(seed, off + i * 8)) {
			const uint8_t *b = buf;
			uint64_t want = pattern(seed, off + i * 8);
			size_t j;

			for (j = 0; j < 8; j++)
				if (b[i * 8 + j] != ((uint8_t *)&want)[j])
					return i * 8 + j;
		}
	}
	return -1;
}

/* ---------- PCI functions ---------- */

struct fn {
	char addr[32];		/* 0001:00:00.0 */
	char dir[PATH_MAX];
	unsigned int vendor, device;
	char driver[64];
	char group[16];
	char type[32];
	char fq[48];		/* iommu_group/flush_queue, commas for spaces */
};

static struct fn fns[MAX_FN];
static int nfns;
static struct fn *bench_fn;	/* the function bound to dma_map_benchmark */
static bool bench_bound;

static void scan_fns(void)
{
	struct dirent **list;
	int i, n;

	nfns = 0;
	n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		struct fn *f = &fns[nfns];
		char path[PATH_MAX + 64], link[PATH_MAX];
		ssize_t l;

		if (list[i]->d_name[0] == '.' || nfns == MAX_FN) {
			free(list[i]);
			continue;
		}
		memset(f, 0, sizeof(*f));
		snprintf(f->addr, sizeof(f->addr), "%.31s", list[i]->d_name);
		snprintf(f->dir, sizeof(f->dir), "/sys/bus/pci/devices/%.31s", list[i]->d_name);
		f->vendor = sysfs_ulong(f->dir, "vendor");
		f->device = sysfs_ulong(f->dir, "device");
		snprintf(path, sizeof(path), "%s/driver", f->dir);
		l = readlink(path, link, sizeof(link) - 1);
		snprintf(f->driver, sizeof(f->driver), "%s",
			 l > 0 ? (link[l] = 0, strrchr(link, '/') + 1) : "none");
		snprintf(path, sizeof(path), "%s/iommu_group", f->dir);
		l = readlink(path, link, sizeof(link) - 1);
		snprintf(f->group, sizeof(f->group), "%s",
			 l > 0 ? (link[l] = 0, strrchr(link, '/') + 1) : "none");
		snprintf(path, sizeof(path), "%s/iommu_group/type", f->dir);
		if (read_file(path, f->type, sizeof(f->type)) < 0)
			snprintf(f->type, sizeof(f->type), "none");
		snprintf(path, sizeof(path), "%s/iommu_group/flush_queue", f->dir);
		if (read_file(path, f->fq, sizeof(f->fq)) < 0)
			snprintf(f->fq, sizeof(f->fq), "none");
		for (char *c = f->fq; *c; c++)
			if (*c == ' ')
				*c = ',';
		nfns++;
		free(list[i]);
	}
	free(list);
}

static const char *fn_kind(const struct fn *f)
{
	if (f->vendor != PCI_VENDOR_VIRTIO)
		return "other";
	switch (f->device) {
	case VIRTIO_NET: return "virtio-net";
	case VIRTIO_BLK: return "virtio-blk";
	case VIRTIO_RNG: return "virtio-rng";
	default: return "virtio";
	}
}

/* ---------- zPCI statistics (debugfs) ---------- */

struct zstats {
	bool valid;
	unsigned long update_ms, samples;
	unsigned long rpcit;		/* "Refresh operations" from the FMB */
	long mapped, unmapped;		/* software counters, -1 if absent */
	long global_rpcit, sync_rpcit, sync_map_rpcit;
};

static void stats_path(const struct fn *f, char *path, size_t len)
{
	snprintf(path, len, "/sys/kernel/debug/pci/%.31s/statistics", f->addr);
}

static long stats_field(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name))) {
		if ((p == text || p[-1] == ' ' || p[-1] == '\n') && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
		p += n;
	}
	return -1;
}

static bool stats_read(const struct fn *f, struct zstats *s)
{
	char path[PATH_MAX], text[4096];

	memset(s, 0, sizeof(*s));
	stats_path(f, path, sizeof(path));
	if (read_file(path, text, sizeof(text)) < 0 ||
	    !strstr(text, "Update interval"))
		return false;
	s->valid = true;
	s->update_ms = stats_field(text, "Update interval");
	s->samples = stats_field(text, "Samples");
	s->rpcit = stats_field(text, "Refresh operations");
	s->mapped = stats_field(text, "Mapped pages");
	s->unmapped = stats_field(text, "Unmapped pages");
	s->global_rpcit = stats_field(text, "Global RPCITs");
	s->sync_rpcit = stats_field(text, "Sync RPCITs");
	s->sync_map_rpcit = stats_field(text, "Sync Map RPCITs");
	return true;
}

static void stats_print(const struct fn *f, const struct zstats *s)
{
	diag("stats %s %s: rpcit=%lu mapped=%ld unmapped=%ld global_rpcit=%ld sync_rpcit=%ld sync_map_rpcit=%ld samples=%lu",
	     f->addr, fn_kind(f), s->rpcit, s->mapped, s->unmapped,
	     s->global_rpcit, s->sync_rpcit, s->sync_map_rpcit, s->samples);
}

static struct zstats stats_base[MAX_FN];
static bool stats_enabled[MAX_FN];
static int stats_enable_err[MAX_FN];
static double stats_t0;		/* when the counters were reset */

/* Disable and re-enable measurement: this resets all counters. */
static void stats_reset_all(void)
{
	char path[PATH_MAX];
	int i;

	stats_t0 = now();
	for (i = 0; i < nfns; i++) {
		stats_path(&fns[i], path, sizeof(path));
		write_file(path, "0");
		stats_enable_err[i] = write_file(path, "1");
		stats_enabled[i] = !stats_enable_err[i] &&
				   stats_read(&fns[i], &stats_base[i]);
	}
}

/* ---------- workload: info ---------- */

static void wl_info(void)
{
	char buf[256];
	int i;

	if (read_file("/proc/version", buf, sizeof(buf)) > 0)
		diag("kernel: %s", buf);
	for (i = 0; i < nfns; i++)
		diag("function %s %04x:%04x %s driver=%s iommu_group=%s type=%s flush_queue=%s",
		     fns[i].addr, fns[i].vendor, fns[i].device, fn_kind(&fns[i]),
		     fns[i].driver, fns[i].group, fns[i].type, fns[i].fq);
}

/* ---------- workload: groups ---------- */

/*
 * Every function the host attached (virtio, vendor 0x1af4) must be in an IOMMU
 * group of its own, of the expected type and flush queue. Functions of the
 * machine itself (the chipset of an x86 q35 machine) are listed, not judged.
 */
static void wl_groups(void)
{
	const char *want = opt_str("wb.domain", NULL);
	const char *want_fq = opt_str("wb.fq", NULL);
	long min = opt_long("wb.groups.min", 1);
	int i, j, n = 0, ours[MAX_FN];
	bool distinct = true;

	for (i = 0; i < nfns; i++)
		if (fns[i].vendor == 0x1af4)
			ours[n++] = i;
		else
			diag("%s: %04x:%04x not attached by the workbench, iommu_group=%s type=%s",
			     fns[i].addr, fns[i].vendor, fns[i].device,
			     fns[i].group, fns[i].type);
	ktap_begin("groups", 2 + n);
	diag("%d virtio PCI functions, at least %ld expected", n, min);
	ktap_result(n >= min, "functions-present");
	for (i = 0; i < n; i++) {
		struct fn *f = &fns[ours[i]];
		bool ok = strcmp(f->group, "none") != 0;
		char name[64];

		diag("%s: iommu_group=%s type=%s%s%s flush_queue=%s%s%s",
		     f->addr, f->group, f->type,
		     want ? " expected " : "", want ? want : "", f->fq,
		     want_fq ? " expected " : "", want_fq ? want_fq : "");
		if (want && strcmp(f->type, want))
			ok = false;
		if (want_fq && strcmp(f->fq, want_fq))
			ok = false;
		for (j = 0; j < i; j++)
			if (!strcmp(f->group, fns[ours[j]].group)) {
				diag("%s shares group %s with %s", f->addr,
				     f->group, fns[ours[j]].addr);
				distinct = false;
			}
		snprintf(name, sizeof(name), "group-%.31s", f->addr);
		ktap_result(ok, name);
	}
	ktap_result(distinct && n > 0, "groups-distinct");
	ktap_end("groups", true);
}

/* ---------- workload: blk ---------- */

struct blk_job {
	int fd;
	size_t bs;
	off_t start, len;
	uint64_t seed;
	bool write;
	long bad_off;	/* disk offset of first wrong byte, or -1 */
	int err;
};

static void *blk_thread(void *arg)
{
	struct blk_job *j = arg;
	void *buf;
	off_t off;

	j->bad_off = -1;
	if (posix_memalign(&buf, 4096, j->bs)) {
		j->err = ENOMEM;
		return NULL;
	}
	for (off = j->start; off < j->start + j->len; off += j->bs) {
		ssize_t n;

		if (j->write) {
			fill(buf, j->bs, j->seed, off);
			n = pwrite(j->fd, buf, j->bs, off);
		} else {
			memset(buf, 0xa5, j->bs);
			n = pread(j->fd, buf, j->bs, off);
		}
		if (n != (ssize_t)j->bs) {
			j->err = n < 0 ? errno : EIO;
			break;
		}
		if (!j->write) {
			long bad = check(buf, j->bs, j->seed, off);

			if (bad >= 0) {
				j->bad_off = off + bad;
				break;
			}
		}
	}
	free(buf);
	return NULL;
}

/*
 * One pass of @threads threads over @len bytes of @fd from @start, whole
 * blocks evenly split; false on any error.
 */
static bool blk_pass(int fd, size_t bs, off_t start, off_t len, int threads,
		     uint64_t seed, bool write, double *secs)
{
	pthread_t tid[64];
	struct blk_job job[64];
	off_t per = threads < 1 || threads > 64 ? 0 : len / threads / bs * bs;
	bool ok = true;
	double t0 = now();
	int i;

	if (per <= 0) {
		diag("%lld bytes cannot be split into %d threads of %zu-byte blocks",
		     (long long)len, threads, bs);
		return false;
	}

	for (i = 0; i < threads; i++) {
		job[i] = (struct blk_job){ .fd = fd, .bs = bs,
					   .start = start + i * per,
					   .len = per, .seed = seed,
					   .write = write };
		pthread_create(&tid[i], NULL, blk_thread, &job[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		if (job[i].err) {
			diag("thread %d: %s at block size %zu: %s", i,
			     write ? "write" : "read", bs, strerror(job[i].err));
			ok = false;
		}
		if (job[i].bad_off >= 0) {
			diag("thread %d: wrong data at disk offset %ld (block size %zu)",
			     i, job[i].bad_off, bs);
			ok = false;
		}
	}
	if (write && fdatasync(fd)) {
		diag("fdatasync: %s", strerror(errno));
		ok = false;
	}
	*secs = now() - t0;
	return ok;
}

static int find_disk(char *dev, size_t len, off_t *size)
{
	char buf[64];
	int i;

	/* vda is the disk the blk workloads own. */
	for (i = 0; i < 10; i++) {
		if (read_file("/sys/block/vda/size", buf, sizeof(buf)) > 0) {
			snprintf(dev, len, "/dev/vda");
			*size = strtoll(buf, NULL, 10) * 512;
			return 0;
		}
		sleep(1);
	}
	return -1;
}

static const char *size_name(size_t bs)
{
	static char name[16];

	if (bs >= MIB)
		snprintf(name, sizeof(name), "%zum", bs / MIB);
	else
		snprintf(name, sizeof(name), "%zuk", bs / 1024);
	return name;
}

static unsigned long long bytes_verified;

static void wl_blk(void)
{
	static const size_t sizes[] = { 4096, 65536, MIB };
	long mib = opt_long("wb.blk.mib", 32);
	int threads = opt_long("wb.blk.threads", 4);
	char dev[32];
	off_t disk, len;
	unsigned int i;
	int fd = -1;

	if (threads < 1 || threads > 64)
		threads = 4;
	ktap_begin("blk", 3);
	if (find_disk(dev, sizeof(dev), &disk) < 0) {
		diag("no virtio-blk disk vda");
	} else {
		fd = open(dev, O_RDWR | O_DIRECT);
		if (fd < 0)
			diag("open %s: %s", dev, strerror(errno));
	}
	len = (off_t)mib * MIB;
	if (fd >= 0 && len > disk) {
		diag("disk has %lld MiB, %ld MiB asked", (long long)(disk / MIB), mib);
		len = disk / MIB * MIB;
	}
	for (i = 0; i < 3; i++) {
		size_t bs = sizes[i];
		double tw = 0, tr = 0;
		bool ok = fd >= 0;
		uint64_t seed = pass_seed(0x5eed0000ULL + bs * 7);

		if (ok)
			ok = blk_pass(fd, bs, 0, len, threads, seed, true, &tw);
		if (ok)
			ok = blk_pass(fd, bs, 0, len, threads, seed, false, &tr);
		if (ok) {
			/* What the threads covered: whole blocks, evenly split. */
			off_t done = len / threads / bs * bs * threads;

			bytes_verified += done;
			diag("blk %s: %d threads wrote and read back %lld KiB, every byte verified (write %.1f MiB/s, read %.1f MiB/s)",
			     size_name(bs), threads, (long long)(done / 1024),
			     (double)done / MIB / tw, (double)done / MIB / tr);
		}
		ktap_result(ok, size_name(bs));
	}
	if (fd >= 0)
		close(fd);
	ktap_end("blk", true);
}

/* Sequential O_DIRECT read throughput, one thread; reported, never judged. */
static void wl_blkread(void)
{
	char list[128], *tok, *save;
	long mib = opt_long("wb.bench.mib", 64);
	char dev[32];
	off_t disk;
	int fd = -1, n = 0;
	const char *p;

	snprintf(list, sizeof(list), "%s", opt_str("wb.bench.bs", "4,64,1024"));
	for (p = list, n = 1; *p; p++)
		n += *p == ',';
	ktap_begin("blkread", n);
	if (find_disk(dev, sizeof(dev), &disk) == 0)
		fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		diag("cannot open the disk vda");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t bs = strtoul(tok, NULL, 10) * 1024;
		off_t len = (off_t)mib * MIB, off;
		void *buf = NULL;
		bool ok = fd >= 0 && bs >= 4096 && !posix_memalign(&buf, 4096, bs);
		double t0 = now(), t;

		if (ok && len > disk)
			len = disk / bs * bs;
		for (off = 0; ok && off + (off_t)bs <= len; off += bs)
			ok = pread(fd, buf, bs, off) == (ssize_t)bs;
		t = now() - t0;
		if (ok)
			diag("blkread bs=%zu bytes=%lld seconds=%.3f mibps=%.2f",
			     bs, (long long)len, t, len / (double)MIB / t);
		free(buf);
		ktap_result(ok, size_name(bs));
	}
	if (fd >= 0)
		close(fd);
	ktap_end("blkread", true);
}

/* ---------- workloads: hot-unplug, recover, error state ---------- */

/*
 * A virtio-blk function is taken away while threads do I/O on it, and comes
 * back: through QEMU (device_del, device_add) or through the kernel's own
 * zPCI recovery (/sys/bus/pci/devices/<fn>/recover, which removes the PCI
 * device, disables and enables the function and scans it again). The
 * threads must end with errors, not hang; the old function's IOMMU group,
 * PCI device and zPCI function must be released; the new function must be in
 * a group of the expected type and move data with every byte checked, and
 * read back what the old one wrote.
 *
 * The guest cannot reach QEMU's monitor: it prints its requests on the
 * console ("wb: qmp SEQ device_del blk0") and scripts/qmp.sh carries them
 * out. wb.hp.id names the workbench device (default blk0).
 *
 *   wb.hp.cycles=N   unplug/plug cycles of the hotplug workload (default 2)
 *   wb.hp.mib=N      MiB written and read back on the new function (default 16)
 *   wb.hp.threads=N  threads doing I/O during the removal (default 4)
 */

#define HP_TIMEOUT 60	/* seconds for any one step: TCG, KASAN */
#define HP_REF_MIB 4	/* written before the removal, read after it */

struct hp_fn {
	char addr[32];
	char dir[64];		/* /sys/bus/pci/devices/<addr> */
	char disk[32];		/* vda, ... */
	char dev[48];		/* /dev/vda */
	int group;		/* IOMMU group number, -1 without one */
	unsigned long fid;
};

static int hp_seq;

/* Prints request @seq; returns it. */
static int hp_request(int seq, const char *what, const char *id)
{
	printf("wb: qmp %d %s %s\n", seq, what, id);
	fflush(stdout);
	return seq;
}

/*
 * A console line can be torn by kernel output: a request that had no effect
 * after 20 s is printed again, with its number, so the host carries it out
 * once.
 */
static void hp_request_again(int seq, const char *what, const char *id,
			     double t0, bool *again)
{
	if (!*again && now() - t0 > 20) {
		hp_request(seq, what, id);
		*again = true;
	}
}

/* The first directory entry in @dir whose name starts with @prefix. */
static bool hp_entry(const char *dir, const char *prefix, char *name, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && !found && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)) &&
		    de->d_name[0] != '.') {
			snprintf(name, len, "%.31s", de->d_name);
			found = true;
		}
	if (d)
		closedir(d);
	return found;
}

/*
 * The virtio-blk function, bound to virtio-pci when @bound, and its disk
 * (if it has one by now).
 */
static bool hp_find(struct hp_fn *f, bool bound)
{
	struct dirent **list;
	bool found = false;
	int i, n;

	memset(f, 0, sizeof(*f));
	f->group = -1;
	n = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		char dir[64], path[PATH_MAX], link[PATH_MAX], v[32];
		ssize_t l;

		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%.31s", list[i]->d_name);
		if (!found && list[i]->d_name[0] != '.' &&
		    sysfs_ulong(dir, "vendor") == PCI_VENDOR_VIRTIO &&
		    sysfs_ulong(dir, "device") == VIRTIO_BLK) {
			snprintf(path, sizeof(path), "%s/driver", dir);
			l = readlink(path, link, sizeof(link) - 1);
			if (bound && (l <= 0 || (link[l] = 0, !strstr(link, "virtio-pci"))))
				goto next;
			found = true;
			snprintf(f->addr, sizeof(f->addr), "%.31s", list[i]->d_name);
			snprintf(f->dir, sizeof(f->dir), "%s", dir);
			f->fid = sysfs_ulong(dir, "function_id");
			snprintf(path, sizeof(path), "%s/iommu_group", dir);
			l = readlink(path, link, sizeof(link) - 1);
			if (l > 0) {
				link[l] = 0;
				f->group = atoi(strrchr(link, '/') + 1);
			}
			if (hp_entry(dir, "virtio", v, sizeof(v))) {
				snprintf(path, sizeof(path), "%s/%s/block", dir, v);
				if (hp_entry(path, "vd", f->disk, sizeof(f->disk)))
					snprintf(f->dev, sizeof(f->dev), "/dev/%s", f->disk);
			}
		}
next:
		free(list[i]);
	}
	free(list);
	return found;
}

static bool hp_exists(const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return !access(path, F_OK);
}

static int hp_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/*
 * A new disk's device node appears (device_add of the disk) before the block
 * device can be opened (bdev_add): until then open() fails with ENXIO.
 */
static bool hp_disk_opens(const char *dev)
{
	int fd = open(dev, O_RDONLY);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * Waits up to HP_TIMEOUT s for a bound virtio-blk function with its disk, one
 * that opens; @seq is the request that brings it back, 0 if none.
 */
static bool hp_wait_back(struct hp_fn *f, int seq, const char *id)
{
	double t0 = now();
	bool again = false;
	int err;

	do {
		err = 0;
		if (hp_find(f, true) && f->disk[0] && f->group >= 0) {
			if (hp_disk_opens(f->dev))
				return true;
			err = errno;
		}
		if (seq)
			hp_request_again(seq, "device_add", id, t0, &again);
		usleep(100000);
	} while (now() - t0 < HP_TIMEOUT);
	if (err)
		diag("%s: %s does not open after %d s: %s", f->addr, f->dev,
		     HP_TIMEOUT, strerror(err));
	else
		diag("no virtio-blk function with a disk after %d s", HP_TIMEOUT);
	return false;
}

/* Asks the host to unplug @id and waits for @f to vanish. */
static bool hp_unplug(const char *id, const struct hp_fn *f, double *secs)
{
	int seq = hp_request(++hp_seq, "device_del", id);
	double t0 = now();
	bool again = false;

	while (now() - t0 < HP_TIMEOUT) {
		if (access(f->dir, F_OK)) {
			*secs = now() - t0;
			return true;
		}
		hp_request_again(seq, "device_del", id, t0, &again);
		usleep(100000);
	}
	diag("%s still present %d s after device_del %s", f->addr, HP_TIMEOUT, id);
	return false;
}

static bool hp_plug(const char *id, struct hp_fn *f, double *secs)
{
	int seq = hp_request(++hp_seq, "device_add", id);
	double t0 = now();
	bool ok;

	ok = hp_wait_back(f, seq, id);
	*secs = now() - t0;
	return ok;
}

/*
 * The old function is gone for good: its IOMMU group (and with it the
 * default domain) was released, its PCI device disabled (the zPCI debugfs
 * directory goes with pci_disable_device) and its zPCI function released
 * (the hot-plug slot goes with the last reference to it).
 */
static bool hp_released(const struct hp_fn *f, int groups)
{
	double t0 = now();
	bool group_gone, dbg_gone, slot_gone, count_ok;

	do {
		group_gone = f->group < 0 ||
			     !hp_exists("/sys/kernel/iommu_groups/%d", f->group);
		dbg_gone = !hp_exists("/sys/kernel/debug/pci/%s", f->addr);
		slot_gone = !hp_exists("/sys/bus/pci/slots/%08lx", f->fid);
		count_ok = hp_count("/sys/kernel/iommu_groups") == groups - 1;
		if (group_gone && dbg_gone && slot_gone && count_ok)
			return true;
		usleep(100000);
	} while (now() - t0 < 10);
	if (!group_gone)
		diag("IOMMU group %d of %s still exists", f->group, f->addr);
	if (!count_ok)
		diag("%d IOMMU groups, %d expected", hp_count("/sys/kernel/iommu_groups"),
		     groups - 1);
	if (!dbg_gone)
		diag("/sys/kernel/debug/pci/%s still exists", f->addr);
	if (!slot_gone)
		diag("hot-plug slot %08lx still exists: the zPCI function was not released",
		     f->fid);
	return false;
}

/*
 * The new function's group: the expected type (wb.domain) and flush queue
 * (wb.fq, as wl_groups reads it), the old number of groups.
 */
static bool hp_group_ok(const struct hp_fn *f, int groups)
{
	const char *want = opt_str("wb.domain", NULL);
	const char *want_fq = opt_str("wb.fq", NULL);
	char path[PATH_MAX], type[32] = "none", fq[48] = "none";
	int n = hp_count("/sys/kernel/iommu_groups");

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", f->group);
	read_file(path, type, sizeof(type));
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/flush_queue", f->group);
	read_file(path, fq, sizeof(fq));
	for (char *c = fq; *c; c++)
		if (*c == ' ')
			*c = ',';
	diag("%s: fid 0x%lx, IOMMU group %d type %s flush_queue %s, %d groups (%d before)",
	     f->addr, f->fid, f->group, type, fq, n, groups);
	return n == groups && (!want || !strcmp(type, want)) &&
	       (!want_fq || !strcmp(fq, want_fq));
}

/* ----- I/O that runs while the function goes away ----- */

struct hp_load {
	int fd;
	off_t start, len;
	uint64_t seed;
	unsigned long long verified;
	long bad_off;		/* disk offset of the first wrong byte, -1 */
	int err;		/* errno of the I/O that failed */
	pthread_t tid;
	bool running;
};

/* Write a block, read it back, check it; round and round until an error. */
static void *hp_load_thread(void *arg)
{
	struct hp_load *j = arg;
	size_t bs = 65536;
	uint64_t round = 0;
	void *buf;
	off_t off;

	j->bad_off = -1;
	if (posix_memalign(&buf, 4096, bs)) {
		j->err = ENOMEM;
		return NULL;
	}
	for (;; round++) {
		for (off = j->start; off + (off_t)bs <= j->start + j->len; off += bs) {
			uint64_t seed = j->seed + round;
			ssize_t n;
			long bad;

			fill(buf, bs, seed, off);
			n = pwrite(j->fd, buf, bs, off);
			if (n == (ssize_t)bs) {
				memset(buf, 0xa5, bs);
				n = pread(j->fd, buf, bs, off);
			}
			if (n != (ssize_t)bs) {
				j->err = n < 0 ? errno : EIO;
				goto out;
			}
			bad = check(buf, bs, seed, off);
			if (bad >= 0) {
				j->bad_off = off + bad;
				goto out;
			}
			__atomic_add_fetch(&j->verified, bs, __ATOMIC_RELAXED);
		}
	}
out:
	free(buf);
	return NULL;
}

static unsigned long long hp_load_bytes(struct hp_load *l, int n)
{
	unsigned long long sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += __atomic_load_n(&l[i].verified, __ATOMIC_RELAXED);
	return sum;
}

/* Starts @n threads on the first @len bytes of @fd; waits until data moves. */
static bool hp_load_start(struct hp_load *l, int n, int fd, off_t len)
{
	double t0 = now();
	int i;

	for (i = 0; i < n; i++) {
		l[i] = (struct hp_load){ .fd = fd, .start = len / n * i,
					 .len = len / n,
					 .seed = pass_seed(0x6870000000ULL * (i + 1)) };
		l[i].running = !pthread_create(&l[i].tid, NULL, hp_load_thread, &l[i]);
	}
	while (hp_load_bytes(l, n) < 2 * MIB && now() - t0 < HP_TIMEOUT)
		usleep(20000);
	for (i = 0; i < n; i++)
		if (!l[i].running)
			return false;
	return hp_load_bytes(l, n) >= 2 * MIB;
}

/*
 * Every thread must end, within HP_TIMEOUT s, on a failed I/O, and no thread
 * may have read wrong data. A thread that does not end is left behind.
 */
static bool hp_load_end(struct hp_load *l, int n)
{
	struct timespec dl;
	bool ok = true;
	int i;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += HP_TIMEOUT;
	for (i = 0; i < n; i++) {
		if (!l[i].running)
			continue;
		if (pthread_timedjoin_np(l[i].tid, NULL, &dl)) {
			diag("I/O thread %d still running or blocked %d s after the removal",
			     i, HP_TIMEOUT);
			ok = false;
			continue;
		}
		l[i].running = false;
		if (l[i].bad_off >= 0) {
			diag("I/O thread %d: wrong data at disk offset %ld", i, l[i].bad_off);
			ok = false;
		} else {
			diag("I/O thread %d: %llu KiB verified, then %s", i,
			     l[i].verified / 1024, strerror(l[i].err));
		}
	}
	if (ok)
		bytes_verified += hp_load_bytes(l, n);
	return ok;
}

/* ----- data that must survive the removal ----- */

static off_t hp_disk_size(const struct hp_fn *f)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), "/sys/block/%s/size", f->disk);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoll(buf, NULL, 10) * 512;
}

static off_t hp_ref_off(off_t disk)
{
	return disk - HP_REF_MIB * MIB;
}

static uint64_t hp_ref_seed;

static bool hp_ref_write(int fd, off_t disk)
{
	double t;

	hp_ref_seed = pass_seed(0x7265660000ULL);
	return blk_pass(fd, MIB, hp_ref_off(disk), HP_REF_MIB * MIB, 1,
			   hp_ref_seed, true, &t);
}

/*
 * The new function: what the old one wrote before it went is there, and a
 * full pass writes and reads back wb.hp.mib MiB at 64 KiB and 1 MiB.
 */
static bool hp_verify(const struct hp_fn *f)
{
	static const size_t sizes[] = { 65536, MIB };
	long mib = opt_long("wb.hp.mib", 16);
	off_t disk = hp_disk_size(f), len = (off_t)mib * MIB;
	bool ok = true;
	double t;
	unsigned int i;
	int fd;

	if (disk < len + HP_REF_MIB * (off_t)MIB) {
		diag("%s: %lld bytes, %ld MiB needed", f->dev, (long long)disk,
		     mib + HP_REF_MIB);
		return false;
	}
	fd = open(f->dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		diag("open %s: %s", f->dev, strerror(errno));
		return false;
	}
	if (hp_ref_seed) {
		ok = blk_pass(fd, MIB, hp_ref_off(disk), HP_REF_MIB * MIB, 1,
				 hp_ref_seed, false, &t);
		if (ok) {
			bytes_verified += HP_REF_MIB * MIB;
			diag("%s: the %d MiB written before the removal read back, every byte verified",
			     f->dev, HP_REF_MIB);
		} else {
			diag("%s does not hold what was written before the removal", f->dev);
		}
	}
	for (i = 0; ok && i < 2; i++) {
		uint64_t seed = pass_seed(0x6876000000ULL + sizes[i]);
		double tw = 0, tr = 0;

		ok = blk_pass(fd, sizes[i], 0, len, 4, seed, true, &tw) &&
		     blk_pass(fd, sizes[i], 0, len, 4, seed, false, &tr);
		if (ok) {
			bytes_verified += len;
			diag("%s %s: wrote and read back %ld MiB, every byte verified (write %.1f MiB/s, read %.1f MiB/s)",
			     f->dev, size_name(sizes[i]), mib, mib / tw, mib / tr);
		}
	}
	close(fd);
	return ok;
}

/*
 * Opens the function's disk, writes the data that must survive, starts the
 * threads. Returns the file descriptor, -1 on failure.
 */
static int hp_prepare(const struct hp_fn *f, struct hp_load *l, int threads)
{
	long mib = opt_long("wb.hp.mib", 16);
	off_t disk = hp_disk_size(f);
	int fd;

	if (disk < (mib + HP_REF_MIB) * (off_t)MIB) {
		diag("%s: %lld bytes, %ld MiB needed", f->dev, (long long)disk,
		     mib + HP_REF_MIB);
		return -1;
	}
	fd = open(f->dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		diag("open %s: %s", f->dev, strerror(errno));
		return -1;
	}
	if (!hp_ref_write(fd, disk)) {
		diag("%s: writing the data that must survive failed", f->dev);
		close(fd);
		return -1;
	}
	if (!hp_load_start(l, threads, fd, (off_t)mib * MIB)) {
		diag("the I/O threads did not get going");
		hp_load_end(l, threads);
		close(fd);
		return -1;
	}
	diag("%s (%s): %d threads doing I/O, %llu KiB verified so far", f->addr,
	     f->dev, threads, hp_load_bytes(l, threads) / 1024);
	return fd;
}

static void hp_meminfo(const char *when)
{
	char text[4096], *p;
	long free_kb = -1, slab_kb = -1;

	if (read_file("/proc/meminfo", text, sizeof(text)) <= 0)
		return;
	if ((p = strstr(text, "MemFree:")))
		free_kb = strtol(p + 8, NULL, 10);
	if ((p = strstr(text, "SUnreclaim:")))
		slab_kb = strtol(p + 11, NULL, 10);
	diag("memory %s: MemFree %ld kB, SUnreclaim %ld kB", when, free_kb, slab_kb);
}

static int hp_threads(void)
{
	int n = opt_long("wb.hp.threads", 4);

	return n < 1 || n > 16 ? 4 : n;
}

/* Unplug under load, plug back, verify; wb.hp.cycles times. */
static void wl_hotplug(void)
{
	const char *id = opt_str("wb.hp.id", "blk0");
	int cycles = opt_long("wb.hp.cycles", 2), threads = hp_threads(), c;

	if (cycles < 1 || cycles > 20)
		cycles = 2;
	ktap_begin("hotplug", 5 * cycles);
	hp_meminfo("before");
	for (c = 1; c <= cycles; c++) {
		struct hp_load l[16];
		struct hp_fn f, g;
		char name[5][32], when[32];
		bool ok[5] = { false };
		int groups = hp_count("/sys/kernel/iommu_groups"), fd = -1, i;
		double t_del = 0, t_add = 0;

		snprintf(name[0], 32, "cycle%d-removed", c);
		snprintf(name[1], 32, "cycle%d-io-ended", c);
		snprintf(name[2], 32, "cycle%d-released", c);
		snprintf(name[3], 32, "cycle%d-added", c);
		snprintf(name[4], 32, "cycle%d-verified", c);
		if (!hp_wait_back(&f, 0, NULL))
			goto report;
		fd = hp_prepare(&f, l, threads);
		if (fd < 0)
			goto report;
		ok[0] = hp_unplug(id, &f, &t_del);
		ok[1] = hp_load_end(l, threads);
		close(fd);
		if (!ok[0])
			goto report;
		ok[2] = hp_released(&f, groups);
		diag("cycle %d: %s gone %.1f s after the request", c, f.addr, t_del);
		ok[3] = hp_plug(id, &g, &t_add) && hp_group_ok(&g, groups);
		if (!ok[3])
			goto report;
		diag("cycle %d: %s back as %s (%s) after %.1f s", c, id, g.addr,
		     g.dev, t_add);
		ok[4] = hp_verify(&g);
report:
		snprintf(when, sizeof(when), "after cycle %d", c);
		hp_meminfo(when);
		for (i = 0; i < 5; i++)
			ktap_result(ok[i], name[i]);
	}
	ktap_end("hotplug", true);
}

/* Writes 1 to the function's recover attribute. */
static bool hp_recover(const struct hp_fn *f, double *secs)
{
	char path[PATH_MAX + 16];
	double t0 = now();
	int rc;

	snprintf(path, sizeof(path), "%s/recover", f->dir);
	rc = write_file(path, "1");
	*secs = now() - t0;
	if (rc)
		diag("%s: %s", path, strerror(-rc));
	return !rc;
}

/*
 * recover on a healthy function under load: its PCI device is removed (the
 * threads' I/O fails), the function disabled and enabled again, and a new PCI
 * device with a new disk works.
 */
static void wl_recover(void)
{
	int threads = hp_threads(), groups = hp_count("/sys/kernel/iommu_groups"), fd;
	struct hp_load l[16];
	struct hp_fn f, g;
	bool ok[4] = { false };
	double t = 0;

	ktap_begin("recover", 4);
	if (!hp_wait_back(&f, 0, NULL) || (fd = hp_prepare(&f, l, threads)) < 0)
		goto report;
	ok[0] = hp_recover(&f, &t);
	ok[1] = hp_load_end(l, threads);
	close(fd);
	diag("recover of %s took %.1f s", f.addr, t);
	ok[2] = hp_wait_back(&g, 0, NULL) && hp_group_ok(&g, groups);
	if (ok[2])
		diag("%s back with disk %s", g.addr, g.dev);
	ok[3] = ok[2] && hp_verify(&g);
report:
	ktap_result(ok[0], "recover");
	ktap_result(ok[1], "io-ended");
	ktap_result(ok[2], "back");
	ktap_result(ok[3], "verified");
	ktap_end("recover", true);
}

/* ----- a function in error state ----- */

/*
 * QEMU puts a function into the error state when a DMA it translates falls
 * outside the aperture or hits an invalid entry (s390_translate_iommu), and
 * sends the guest an error event. The guest provokes that without a test
 * hook of its own: virtio's PCI configuration access capability
 * (VIRTIO_PCI_CAP_PCI_CFG) reaches the device's common configuration through
 * the sysfs config file, where a queue's descriptor table is moved below the
 * aperture and the queue enabled: QEMU maps the ring at once, and fails.
 * The function is unbound first: 6.1's virtio-pci cannot let go of a
 * function in error state (its reset waits for a status that reads 0xff).
 */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define VQ_SELECT 0x16
#define VQ_ENABLE 0x1c
#define VQ_NOTIFY_OFF 0x1e
#define VQ_DESC 0x20		/* then avail at 0x28, used at 0x30 */
#define HP_BAD_IOVA 0x1000	/* below the aperture, which starts at 4 GiB */

static int hp_cfg_fd(const struct hp_fn *f)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/config", f->dir);
	return open(path, O_RDWR);
}

static uint32_t hp_cfg_read(int fd, off_t off, int len)
{
	uint8_t b[4] = { 0xff, 0xff, 0xff, 0xff };
	uint32_t v = 0;
	int i;

	if (pread(fd, b, len, off) != len)
		return UINT32_MAX;
	for (i = len - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static bool hp_cfg_write(int fd, off_t off, uint32_t v, int len)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < len; i++)
		b[i] = v >> (8 * i);
	return pwrite(fd, b, len, off) == len;
}

/* Config space offset of the virtio capability of @type, 0 if none. */
static int hp_virtio_cap(int fd, int type)
{
	int p = hp_cfg_read(fd, 0x34, 1), n;

	for (n = 0; p >= 0x40 && p < 0x100 && n < 48; n++) {
		if (hp_cfg_read(fd, p, 1) == 0x09 && (int)hp_cfg_read(fd, p + 3, 1) == type)
			return p;
		p = hp_cfg_read(fd, p + 1, 1);
	}
	return 0;
}

/* A write of @len bytes at @off of the modern BAR, through the window. */
static bool hp_bar_write(int fd, int win, uint32_t off, uint32_t v, int len)
{
	return hp_cfg_write(fd, win + 8, off, 4) &&
	       hp_cfg_write(fd, win + 12, len, 4) &&
	       hp_cfg_write(fd, win + 16, v, 4);
}

static uint32_t hp_bar_read(int fd, int win, uint32_t off, int len)
{
	if (!hp_cfg_write(fd, win + 8, off, 4) || !hp_cfg_write(fd, win + 12, len, 4))
		return UINT32_MAX;
	return hp_cfg_read(fd, win + 16, len);
}

static bool hp_in_error(int fd)
{
	return hp_cfg_read(fd, 0, 4) == UINT32_MAX;
}

/*
 * Takes @f out of its driver's hands under load, then into the error state.
 */
static bool hp_make_error(const struct hp_fn *f)
{
	int threads = hp_threads(), fd, cfg, common_cap, notify_cap, win, i;
	struct hp_load l[16];
	char path[PATH_MAX + 16];
	uint32_t common, notify;
	double t0;
	bool ok;

	fd = hp_prepare(f, l, threads);
	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "%s/driver/unbind", f->dir);
	ok = !write_file(path, f->addr);
	if (!ok)
		diag("unbind %s: %s", f->addr, strerror(errno));
	ok = hp_load_end(l, threads) && ok;
	close(fd);
	if (!ok)
		return false;
	cfg = hp_cfg_fd(f);
	common_cap = cfg < 0 ? 0 : hp_virtio_cap(cfg, VIRTIO_PCI_CAP_COMMON_CFG);
	notify_cap = cfg < 0 ? 0 : hp_virtio_cap(cfg, VIRTIO_PCI_CAP_NOTIFY_CFG);
	win = cfg < 0 ? 0 : hp_virtio_cap(cfg, VIRTIO_PCI_CAP_PCI_CFG);
	if (!common_cap || !notify_cap || !win) {
		diag("%s: a virtio capability is missing (common %d, notify %d, access window %d)",
		     f->addr, common_cap, notify_cap, win);
		if (cfg >= 0)
			close(cfg);
		return false;
	}
	/* Both structures are in the modern BAR, which the window reaches. */
	common = hp_cfg_read(cfg, common_cap + 8, 4);
	/* Bus master: unbinding cleared it, and QEMU drops DMA without it. */
	ok = hp_cfg_write(cfg, 4, hp_cfg_read(cfg, 4, 2) | 0x6, 2) &&
	     hp_bar_write(cfg, win, common + VQ_SELECT, 0, 2);
	for (i = 0; ok && i < 3; i++)
		ok = hp_bar_write(cfg, win, common + VQ_DESC + 8 * i,
				  HP_BAD_IOVA * (i + 1), 4) &&
		     hp_bar_write(cfg, win, common + VQ_DESC + 8 * i + 4, 0, 4);
	ok = ok && hp_bar_write(cfg, win, common + VQ_ENABLE, 1, 2);
	/* The device looks at the ring when the queue is notified. */
	notify = hp_cfg_read(cfg, notify_cap + 8, 4) +
		 hp_bar_read(cfg, win, common + VQ_NOTIFY_OFF, 2) *
		 hp_cfg_read(cfg, notify_cap + 16, 4);
	diag("%s: queue 0 rings moved to IOVA 0x%x (below the aperture), notified at 0x%x",
	     f->addr, HP_BAD_IOVA, notify);
	ok = ok && hp_bar_write(cfg, win, notify, 0, 2);
	if (!ok)
		diag("%s: config write: %s", f->addr, strerror(errno));
	t0 = now();
	while (ok && !hp_in_error(cfg) && now() - t0 < 10)
		usleep(100000);
	if (ok && !hp_in_error(cfg)) {
		diag("%s: not in error state: config space still reads", f->addr);
		ok = false;
	} else if (ok) {
		diag("%s: in error state, config space reads all ones", f->addr);
	}
	close(cfg);
	return ok;
}

/* Error state, then unplug and plug (@unplug) or recover through sysfs. */
static void hp_error_then(bool unplug)
{
	const char *id = opt_str("wb.hp.id", "blk0");
	int groups = hp_count("/sys/kernel/iommu_groups");
	struct hp_fn f, g;
	bool ok[4] = { false };
	double t = 0;

	ktap_begin(unplug ? "err-unplug" : "err-recover", 4);
	if (!hp_wait_back(&f, 0, NULL))
		goto report;
	ok[0] = hp_make_error(&f);
	if (!ok[0])
		goto report;
	if (unplug) {
		ok[1] = hp_unplug(id, &f, &t) && hp_released(&f, groups);
		diag("%s in error state gone %.1f s after the request", f.addr, t);
		ok[2] = ok[1] && hp_plug(id, &g, &t) && hp_group_ok(&g, groups);
	} else {
		ok[1] = hp_recover(&f, &t);
		diag("recover of %s took %.1f s", f.addr, t);
		ok[2] = ok[1] && hp_wait_back(&g, 0, NULL) && hp_group_ok(&g, groups);
	}
	if (ok[2])
		diag("%s back as %s with disk %s", id, g.addr, g.dev);
	ok[3] = ok[2] && hp_verify(&g);
report:
	ktap_result(ok[0], "error-state");
	ktap_result(ok[1], unplug ? "removed" : "recovered");
	ktap_result(ok[2], "back");
	ktap_result(ok[3], "verified");
	ktap_end(unplug ? "err-unplug" : "err-recover", true);
}

static void wl_err_unplug(void)
{
	hp_error_then(true);
}

static void wl_err_recover(void)
{
	hp_error_then(false);
}

/* ---------- workload: nodomain ---------- */

#define FAILSLAB "/sys/kernel/debug/failslab"

/*
 * Let the next @times allocations from the slab caches marked for failslab
 * fail, those that may sleep too; 0 stops it. The boot marks the cache of the
 * region and segment tables (slub_debug=A,PCI_DMA_region_tables): a new s390
 * DMA domain allocates its region table from it first. A mapping of another
 * function that needs a new segment table meanwhile takes a failure away
 * from the domain, which makes the test fail, never pass.
 */
static bool fail_slab(int times)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", times);
	return !write_file(FAILSLAB "/verbose", "0") &&
	       !write_file(FAILSLAB "/cache-filter", "Y") &&
	       !write_file(FAILSLAB "/ignore-gfp-wait", "N") &&
	       !write_file(FAILSLAB "/interval", "1") &&
	       !write_file(FAILSLAB "/times", val) &&
	       !write_file(FAILSLAB "/probability", times ? "100" : "0");
}

/*
 * Waits up to HP_TIMEOUT s for the virtio-blk function to be back, bound or
 * not, and then as long again as a bound one takes to get its disk (5 s):
 * a function whose DMA fails never gets one.
 */
static bool nd_wait_fn(struct hp_fn *f, int seq, const char *id)
{
	double t0 = now();
	bool again = false;

	while (!hp_find(f, false)) {
		if (now() - t0 > HP_TIMEOUT) {
			diag("no virtio-blk function %d s after device_add %s",
			     HP_TIMEOUT, id);
			return false;
		}
		hp_request_again(seq, "device_add", id, t0, &again);
		usleep(100000);
	}
	t0 = now();
	while (now() - t0 < 5 && !f->disk[0]) {
		usleep(100000);
		hp_find(f, false);
	}
	return true;
}

/*
 * A function whose default domain cannot be allocated. The virtio-blk
 * function is unplugged and plugged back while every allocation of its
 * domain fails (the DMA-FQ domain the core asks for, then the strict DMA
 * domain it falls back to; in strict mode the one): it must come back in an IOMMU group without a
 * default domain, and without a disk, its DMA API failing rather than
 * DMAing directly to memory it cannot reach (the .test expects the kernel's
 * message). Unplugged again and plugged back without the failures, it must
 * work again, every byte checked.
 */
static void wl_nodomain(void)
{
	const char *id = opt_str("wb.hp.id", "blk0");
	int groups = hp_count("/sys/kernel/iommu_groups");
	char path[PATH_MAX], type[32] = "", left[16] = "";
	struct hp_fn f, g, h;
	bool ok[5] = { false };
	double t = 0;
	int seq, tries;

	/* DMA-FQ first, then the strict DMA domain the core falls back to */
	tries = strcmp(opt_str("wb.domain", "DMA-FQ"), "DMA") ? 2 : 1;
	ktap_begin("nodomain", 5);
	if (!hp_wait_back(&f, 0, NULL))
		goto report;
	ok[0] = hp_unplug(id, &f, &t) && hp_released(&f, groups);
	if (!ok[0])
		goto report;
	if (!fail_slab(tries)) {
		diag("cannot set up failslab in " FAILSLAB);
		goto report;
	}
	seq = hp_request(++hp_seq, "device_add", id);
	if (!nd_wait_fn(&g, seq, id)) {
		fail_slab(0);
		goto report;
	}
	read_file(FAILSLAB "/times", left, sizeof(left));
	fail_slab(0);
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", g.group);
	if (g.group >= 0)
		read_file(path, type, sizeof(type));
	diag("%s back as %s: IOMMU group %d, type %s, failslab times left %s, disk %s",
	     id, g.addr, g.group, type[0] ? type : "-", left[0] ? left : "?",
	     g.disk[0] ? g.disk : "none");
	/* Both allocations failed: a group, but no default domain in it */
	ok[1] = g.group >= 0 && !strcmp(type, "unknown") && atoi(left) == 0;
	ok[2] = !g.disk[0];
	ok[3] = hp_unplug(id, &g, &t) && hp_released(&g, groups);
	if (!ok[3])
		goto report;
	ok[4] = hp_plug(id, &h, &t) && hp_group_ok(&h, groups) && hp_verify(&h);
report:
	ktap_result(ok[0], "removed");
	ktap_result(ok[1], "no-domain");
	ktap_result(ok[2], "no-dma");
	ktap_result(ok[3], "removed-again");
	ktap_result(ok[4], "back-verified");
	ktap_end("nodomain", true);
}

/* ---------- workload: net ---------- */

#define NET_PORT 5001

static int if_set(const char *ifname, const char *ip)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0), rc = -1;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	if (ip) {
		inet_pton(AF_INET, ip, &sin->sin_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr))
			goto out;
		inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
		if (ioctl(s, SIOCSIFNETMASK, &ifr))
			goto out;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		goto out;
	ifr.ifr_flags |= IFF_UP;
	rc = ioctl(s, SIOCSIFFLAGS, &ifr);
out:
	close(s);
	return rc;
}

/* Move interface @ifindex into the network namespace of @pid. */
static int if_move(int ifindex, pid_t pid)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[64];
	} req = { 0 };
	struct rtattr *rta;
	char reply[1024];
	struct nlmsghdr *nh = (struct nlmsghdr *)reply;
	int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), rc = -1;
	uint32_t p = pid;

	if (s < 0)
		return -1;
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(NLMSG_LENGTH(sizeof(req.ifi))));
	rta->rta_type = IFLA_NET_NS_PID;
	rta->rta_len = RTA_LENGTH(sizeof(p));
	memcpy(RTA_DATA(rta), &p, sizeof(p));
	req.nh.nlmsg_len = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(req.ifi))) + rta->rta_len;
	if (send(s, &req, req.nh.nlmsg_len, 0) < 0)
		goto out;
	if (recv(s, reply, sizeof(reply), 0) < (ssize_t)sizeof(*nh))
		goto out;
	if (nh->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		errno = -e->error;
		rc = e->error ? -1 : 0;
	}
out:
	close(s);
	return rc;
}

static bool send_all(int s, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(s, buf, len, 0);

		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/*
 * Receives @total bytes on @s, checks them against stream @seed and, if
 * @echo, sends each chunk back. Returns the stream offset of the first wrong
 * byte, -1 if all was right, -2 on a socket error.
 */
static long long recv_check(int s, uint64_t seed, size_t total, bool echo)
{
	static __thread uint64_t buf[8192];
	size_t got = 0, have = 0;

	while (got < total) {
		size_t want = sizeof(buf) - have;
		ssize_t n;
		long bad;
		size_t whole;

		if (want > total - got - have)
			want = total - got - have;
		n = recv(s, (char *)buf + have, want, 0);
		if (n <= 0)
			return -2;
		if (echo && !send_all(s, (char *)buf + have, n))
			return -2;
		have += n;
		whole = have / 8 * 8;
		bad = check(buf, whole, seed, got);
		if (bad >= 0)
			return got + bad;
		got += whole;
		memmove(buf, (char *)buf + whole, have - whole);
		have -= whole;
	}
	return -1;
}

struct net_rx {
	int s;
	uint64_t seed;
	size_t total;
	long long result;
};

static void *net_rx_thread(void *arg)
{
	struct net_rx *r = arg;

	r->result = recv_check(r->s, r->seed, r->total, false);
	return NULL;
}

/* Child: in its own network namespace, echo what arrives on @ifname. */
static int net_peer(const char *ifname, int ready_fd, int go_fd,
		    uint64_t seed, size_t total)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(NET_PORT) };
	int ls, s, one = 1;
	long long r;
	char c = 0;

	if (unshare(CLONE_NEWNET))
		return 10;
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return 11;
	if (if_set("lo", NULL) || if_set(ifname, "10.99.0.2"))
		return 12;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1))
		return 13;
	if (write(ready_fd, &c, 1) != 1)
		return 11;
	s = accept(ls, NULL, NULL);
	if (s < 0)
		return 14;
	r = recv_check(s, seed, total, true);
	close(s);
	close(ls);
	if (r == -2)
		return 15;
	if (r >= 0) {
		fprintf(stderr, "# net: peer saw wrong data at stream offset %lld\n", r);
		return 16;
	}
	return 0;
}

static void wl_net(void)
{
	size_t total = (size_t)opt_long("wb.net.mib", 16) * MIB;
	uint64_t seed = pass_seed(0x6e657400ULL);
	char ifs[2][IFNAMSIZ];
	int nif = 0, ready[2], go[2], status, s = -1;
	unsigned int idx1;
	struct dirent *de;
	DIR *d;
	pid_t pid = -1;
	bool ok = false;
	char c = 0;
	double t0;

	ktap_begin("net", 1);
	if (total == 0 || total % 8) {
		diag("wb.net.mib must be a positive number of MiB");
		goto out;
	}
	d = opendir("/sys/class/net");
	while (d && (de = readdir(d)) && nif < 2) {
		char path[PATH_MAX + 300], link[PATH_MAX];
		ssize_t l;

		snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver",
			 de->d_name);
		l = readlink(path, link, sizeof(link) - 1);
		if (l > 0 && (link[l] = 0, strstr(link, "virtio_net")))
			snprintf(ifs[nif++], IFNAMSIZ, "%.15s", de->d_name);
	}
	if (d)
		closedir(d);
	if (nif < 2) {
		diag("need two virtio-net interfaces, found %d", nif);
		goto out;
	}
	if (strcmp(ifs[0], ifs[1]) > 0) {
		char t[IFNAMSIZ];

		memcpy(t, ifs[0], IFNAMSIZ);
		memcpy(ifs[0], ifs[1], IFNAMSIZ);
		memcpy(ifs[1], t, IFNAMSIZ);
	}
	idx1 = if_nametoindex(ifs[1]);
	if (pipe(ready) || pipe(go))
		goto out;
	pid = fork();
	if (pid == 0)
		_exit(net_peer(ifs[1], ready[1], go[0], seed, total));
	if (read(ready[0], &c, 1) != 1)
		goto reap;
	if (if_move(idx1, pid)) {
		diag("moving %s into the peer namespace: %s", ifs[1], strerror(errno));
		kill(pid, SIGKILL);
		goto reap;
	}
	if (write(go[1], &c, 1) != 1 || read(ready[0], &c, 1) != 1)
		goto reap;
	if (if_set("lo", NULL) || if_set(ifs[0], "10.99.0.1")) {
		diag("configuring %s: %s", ifs[0], strerror(errno));
		kill(pid, SIGKILL);
		goto reap;
	}
	t0 = now();
	for (;;) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(NET_PORT) };

		inet_pton(AF_INET, "10.99.0.2", &a.sin_addr);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(s, (struct sockaddr *)&a, sizeof(a)))
			break;
		close(s);
		s = -1;
		if (now() - t0 > 30) {
			diag("cannot connect to the peer through %s", ifs[0]);
			kill(pid, SIGKILL);
			goto reap;
		}
		usleep(200000);
	}
	{
		struct net_rx rx = { .s = s, .seed = seed, .total = total };
		static uint64_t buf[8192];
		pthread_t tid;
		size_t off;

		t0 = now();
		pthread_create(&tid, NULL, net_rx_thread, &rx);
		ok = true;
		for (off = 0; ok && off < total; off += sizeof(buf)) {
			size_t n = total - off < sizeof(buf) ? total - off : sizeof(buf);

			fill(buf, n, seed, off);
			ok = send_all(s, (char *)buf, n);
		}
		if (!ok)
			diag("send failed: %s", strerror(errno));
		pthread_join(tid, NULL);
		if (rx.result == -2) {
			diag("receiving the echo failed");
			ok = false;
		} else if (rx.result >= 0) {
			diag("echo had wrong data at stream offset %lld", rx.result);
			ok = false;
		}
		if (ok)
			diag("net: %zu MiB %s -> %s and back, every byte verified (%.1f MiB/s each way)",
			     total / MIB, ifs[0], ifs[1], total / MIB / (now() - t0));
		close(s);
	}
reap:
	if (pid > 0) {
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			diag("peer failed (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			ok = false;
		} else if (ok) {
			bytes_verified += 2 * total;
		}
	}
out:
	ktap_result(ok, "echo");
	ktap_end("net", true);
}

/* ---------- workload: dmabench ---------- */

static struct fn *spare_fn(void)
{
	const char *want = opt_str("wb.bench.dev", NULL);
	int i;

	for (i = 0; i < nfns; i++)
		if (want ? !strcmp(fns[i].addr, want) :
		    (fns[i].vendor == PCI_VENDOR_VIRTIO && fns[i].device == VIRTIO_RNG))
			return &fns[i];
	return NULL;
}

static bool bind_benchmark(struct fn *f)
{
	char path[PATH_MAX + 32];
	int rc;

	snprintf(path, sizeof(path), "%s/driver_override", f->dir);
	if ((rc = write_file(path, "dma_map_benchmark"))) {
		diag("driver_override: %s", strerror(-rc));
		return false;
	}
	if (strcmp(f->driver, "none")) {
		snprintf(path, sizeof(path), "%s/driver/unbind", f->dir);
		if ((rc = write_file(path, f->addr))) {
			diag("unbind %s: %s", f->driver, strerror(-rc));
			return false;
		}
	}
	/*
	 * dma_map_benchmark does not enable the function, and zPCI keeps
	 * statistics only of enabled ones. Enabling needs the function unbound.
	 */
	snprintf(path, sizeof(path), "%s/enable", f->dir);
	if ((rc = write_file(path, "1")))
		diag("enable %s: %s", f->addr, strerror(-rc));
	write_file("/sys/bus/pci/drivers_probe", f->addr);
	if (access("/sys/kernel/debug/dma_map_benchmark", F_OK)) {
		diag("dma_map_benchmark did not bind to %s", f->addr);
		return false;
	}
	return true;
}

static bool run_capture(char *const argv[], char *out, size_t len, int *status)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	if (pipe(p))
		return false;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (got < len - 1 && (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = 0;
	close(p[0]);
	waitpid(pid, status, 0);
	return true;
}

/* Run dma_map_benchmark on the spare function; its output goes to out. */
static bool bench_run(int threads, int granule, long seconds, char *out,
		      size_t len, int *status)
{
	char t[16], g[16], secs[16];
	char *argv[] = { "/bin/dma_map_benchmark", "-t", t, "-g", g,
			 "-s", secs, "-b", "64", NULL };

	snprintf(t, sizeof(t), "%d", threads);
	snprintf(g, sizeof(g), "%d", granule);
	snprintf(secs, sizeof(secs), "%ld", seconds);
	return run_capture(argv, out, len, status);
}

/* The spare function is bound to dma_map_benchmark before any workload. */
static void wl_dmabench(void)
{
	static const int runs[][2] = { { 1, 1 }, { 1, 16 }, { 2, 1 }, { 2, 16 } };
	long secs = opt_long("wb.bench.seconds", 2);
	bool bound = bench_bound;
	unsigned int i;

	ktap_begin("dmabench", 4);
	if (!bench_fn)
		diag("no spare function (virtio-rng) for the DMA map benchmark");
	for (i = 0; i < 4; i++) {
		char name[32], out[2048];
		double map = -1, unmap = -1, map_sd = -1, unmap_sd = -1;
		int status = -1;
		bool ok = false;
		char *p;

		snprintf(name, sizeof(name), "threads%d-granule%d", runs[i][0], runs[i][1]);
		if (bound && bench_run(runs[i][0], runs[i][1], secs, out, sizeof(out),
				       &status)) {
			if ((p = strstr(out, "average map latency(us):")))
				sscanf(p, "average map latency(us):%lf standard deviation:%lf",
				       &map, &map_sd);
			if ((p = strstr(out, "average unmap latency(us):")))
				sscanf(p, "average unmap latency(us):%lf standard deviation:%lf",
				       &unmap, &unmap_sd);
			ok = WIFEXITED(status) && !WEXITSTATUS(status) &&
			     map >= 0 && unmap >= 0;
			if (ok)
				diag("dmabench threads=%d granule=%d map_us=%.2f map_sd=%.2f unmap_us=%.2f unmap_sd=%.2f",
				     runs[i][0], runs[i][1], map, map_sd, unmap, unmap_sd);
			else
				for (p = strtok(out, "\n"); p; p = strtok(NULL, "\n"))
					diag("dma_map_benchmark: %s", p);
		}
		ktap_result(ok, name);
	}
	ktap_end("dmabench", true);
}

/* ---------- workload: rpcitfail ---------- */

#define FAIL_RPCIT "/sys/kernel/debug/fail_zpci_rpcit"

/* Let refreshes of new translations fail: times -1 means until stopped. */
static bool fail_rpcit(int probability, int times)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", times);
	return !write_file(FAIL_RPCIT "/verbose", "1") &&
	       !write_file(FAIL_RPCIT "/interval", "1") &&
	       !write_file(FAIL_RPCIT "/times", val) &&
	       !write_file(FAIL_RPCIT "/probability", probability ? "100" : "0");
}

static long global_rpcits(void)
{
	struct zstats s;
	long sum = 0;
	int i;

	for (i = 0; i < nfns; i++)
		if (stats_read(&fns[i], &s) && s.global_rpcit > 0)
			sum += s.global_rpcit;
	return sum;
}

/* A quick write and read back of the disk, if there is one, every byte checked. */
static bool blk_verify(const char *why)
{
	/* One seed for the write and the read back */
	uint64_t seed = pass_seed(0xfa11ULL);
	char dev[32];
	off_t disk;
	double t;
	bool ok;
	int fd;

	if (find_disk(dev, sizeof(dev), &disk) < 0) {
		diag("%s: no virtio-blk disk to write and read back", why);
		return false;
	}
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		diag("open %s: %s", dev, strerror(errno));
		return false;
	}
	ok = blk_pass(fd, 65536, 0, 4 * MIB, 2, seed, true, &t) &&
	     blk_pass(fd, 65536, 0, 4 * MIB, 2, seed, false, &t);
	close(fd);
	if (ok)
		diag("%s: 4 MiB written and read back through virtio-blk, every byte verified", why);
	return ok;
}

/*
 * RPCIT "insufficient resources", injected through fail_zpci_rpcit while the
 * DMA map benchmark maps on the spare function. A single failure is absorbed:
 * the driver refreshes globally, which makes the new mapping valid too, and
 * the benchmark sees nothing. A persistent failure (the global refresh
 * refused as well) fails the mappings, and the benchmark reports an error;
 * every page mapped is unmapped again, and once injection stops mappings work.
 * Needs zPCI statistics (wb.stats=1) and CONFIG_FAIL_ZPCI_RPCIT.
 */
static void wl_rpcitfail(void)
{
	struct zstats s0, s1;
	char out[2048], times[16];
	long g0, g1;
	int status;
	bool ok;

	ktap_begin("rpcitfail", 5);
	ok = !access(FAIL_RPCIT, F_OK) && bench_bound;
	if (!ok)
		diag("needs %s and the DMA map benchmark on the spare function", FAIL_RPCIT);
	ktap_result(ok, "available");
	if (!ok || !stats_read(bench_fn, &s0)) {
		if (ok)
			diag("no zPCI statistics of the spare function");
		ktap_skip("one-failure-absorbed", "not available");
		ktap_skip("persistent-failure-reported", "not available");
		ktap_skip("counters-balance", "not available");
		ktap_skip("mapping-resumes", "not available");
		ktap_end("rpcitfail", false);
		return;
	}

	/* One failure: the global refresh that answers it must succeed. */
	g0 = global_rpcits();
	ok = fail_rpcit(100, 1) && bench_run(1, 1, 1, out, sizeof(out), &status) &&
	     WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ok)
		diag("the benchmark failed with one RPCIT failure injected: %.200s", out);
	g1 = global_rpcits();
	read_file(FAIL_RPCIT "/times", times, sizeof(times));
	if (strcmp(times, "0")) {
		diag("the failure was not injected: times is %s", times);
		ok = false;
	}
	/*
	 * The recovery's global flush. Only the per-CPU flush queues flush
	 * globally otherwise.
	 */
	if (!strncmp(bench_fn->fq, "percpu", 6) ? g1 - g0 < 1 : g1 - g0 != 1) {
		diag("%ld global RPCITs for one injected failure (flush queue %s)",
		     g1 - g0, bench_fn->fq);
		ok = false;
	}
	ktap_result(ok && blk_verify("after one failure"), "one-failure-absorbed");

	/* Persistent failure: the mapping fails, the benchmark says so. */
	ok = fail_rpcit(100, -1) && bench_run(1, 1, 1, out, sizeof(out), &status);
	fail_rpcit(0, 1);
	/*
	 * The mapping error, as the benchmark reports it: its ioctl fails
	 * with ENOMEM and it exits with 1. Another status (a signal, 127 for
	 * a missing program) or message is some other failure.
	 */
	if (ok && WIFEXITED(status) && !WEXITSTATUS(status)) {
		diag("the benchmark succeeded although every RPCIT failed: %.200s", out);
		ok = false;
	} else if (ok && (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
			  !strstr(out, "ioctl: Cannot allocate memory"))) {
		diag("the benchmark failed otherwise than with the mapping error (status 0x%x): %.200s",
		     status, out);
		ok = false;
	} else if (ok) {
		for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n"))
			diag("expected error: dma_map_benchmark: %s", p);
	}
	ktap_result(ok, "persistent-failure-reported");

	/* Nothing the failed mappings put in the tables stays there. */
	ok = stats_read(bench_fn, &s1) && s1.mapped - s0.mapped > 0 &&
	     s1.mapped - s0.mapped == s1.unmapped - s0.unmapped;
	diag("spare function since the start of rpcitfail: %ld pages mapped, %ld unmapped (some must be)",
	     s1.mapped - s0.mapped, s1.unmapped - s0.unmapped);
	ktap_result(ok, "counters-balance");

	ok = bench_run(1, 1, 1, out, sizeof(out), &status) &&
	     WIFEXITED(status) && !WEXITSTATUS(status);
	if (!ok)
		diag("the benchmark failed after injection stopped: %.200s", out);
	ktap_result(ok && blk_verify("after injection stopped"), "mapping-resumes");
	ktap_end("rpcitfail", true);
}

/* ---------- workload: stats ---------- */

/* The RPCITs the kernel counted itself, -1 if it has no such counters. */
static long stats_own_rpcit(const struct zstats *s)
{
	if (s->global_rpcit < 0 || s->sync_rpcit < 0 || s->sync_map_rpcit < 0)
		return -1;
	return s->global_rpcit + s->sync_rpcit + s->sync_map_rpcit;
}

/*
 * wb.stats.drains=more: the single queue of @f flushed more often than the
 * default single queue (2048 entries, 1000 ms) could have for the same work
 * (tests/boot/fq-small.test). Each drain flushes its span once per function
 * (a Sync RPCIT), and an entry holds a page or more, so a default queue
 * drains at most unmapped / 2047 times because it is full, and once per
 * timeout (plus one) on its timer since the counters were reset.
 */
static bool stats_drains_ok(const struct fn *f, const struct zstats *s)
{
	const char *mode = opt_str("wb.stats.drains", NULL);
	double elapsed = now() - stats_t0, bound;

	if (!mode)
		return true;
	if (strcmp(mode, "more")) {
		diag("wb.stats.drains must be 'more', not '%s'", mode);
		return false;
	}
	bound = elapsed + 1 + (double)s->unmapped / 2047;
	diag("%s: %ld span flushes in %.1f s for %ld unmapped pages; the default single queue makes at most %.0f",
	     f->addr, s->sync_rpcit, elapsed, s->unmapped, bound);
	if (s->sync_rpcit > bound)
		return true;
	diag("%s: it flushed no more often than the default queue", f->addr);
	return false;
}

/*
 * After the workloads: measurement was enabled on every function, QEMU's
 * RPCIT count is read once it has been updated, and the software counters
 * balance: every page mapped since the reset is unmapped again, except for
 * the receive buffers a virtio-net function keeps posted.
 *
 * Where the kernel counts its RPCITs, QEMU's count must equal their sum. The
 * measurement block is a copy QEMU makes every update interval, and the
 * kernel's counters are live: so the comparison is made after an update
 * between two reads that found the kernel's sum unchanged. Then no RPCIT
 * fell between that update and the read, and the copy holds every one.
 */
static void wl_stats(void)
{
	struct zstats s0[MAX_FN], s[MAX_FN], cur;
	bool updated[MAX_FN];
	double t0 = now(), wait = 5;
	int i, pending;

	for (i = 0; i < nfns; i++) {
		updated[i] = false;
		if (stats_enabled[i] && stats_read(&fns[i], &s0[i]) &&
		    wait < 6.0 * s0[i].update_ms / 1000 + 5)
			wait = 6.0 * s0[i].update_ms / 1000 + 5;
	}
	/*
	 * Without counters of the kernel's own: two FMB updates, so that QEMU's
	 * counts cover the workloads. With them: an update across which the
	 * kernel's sum stayed the same (s0 is the read before each update).
	 */
	do {
		pending = 0;
		for (i = 0; i < nfns; i++) {
			if (!stats_enabled[i] || updated[i])
				continue;
			if (stats_read(&fns[i], &cur)) {
				if (stats_own_rpcit(&cur) < 0) {
					updated[i] = cur.samples >= s0[i].samples + 2;
				} else if (cur.samples > s0[i].samples) {
					updated[i] = stats_own_rpcit(&cur) ==
						     stats_own_rpcit(&s0[i]);
					if (!updated[i])
						s0[i] = cur;
				}
				s[i] = cur;
			}
			pending += !updated[i];
		}
		if (pending)
			usleep(100000);
	} while (pending && now() - t0 < wait);

	ktap_begin("stats", 4 * nfns);
	for (i = 0; i < nfns; i++) {
		struct fn *f = &fns[i];
		char name[64];
		bool ok = updated[i], traffic;
		long net, limit = 0;

		snprintf(name, sizeof(name), "%.31s-enable", f->addr);
		if (!stats_enabled[i])
			diag("%s: enabling statistics failed: %s", f->addr,
			     strerror(-stats_enable_err[i]));
		ktap_result(stats_enabled[i], name);

		if (ok)
			stats_print(f, &s[i]);
		else if (stats_enabled[i] && stats_own_rpcit(&s[i]) >= 0)
			diag("%s: no measurement block update without an RPCIT of the kernel's in %.0f s",
			     f->addr, wait);
		else if (stats_enabled[i])
			diag("%s: the measurement block was not updated", f->addr);
		/*
		 * blk and net functions carried the workloads' traffic, and the
		 * spare function the DMA map benchmark's mappings: their
		 * counters must show it. QEMU reports tlb_refresh, so every
		 * new mapping needs an RPCIT.
		 */
		traffic = (f->vendor == PCI_VENDOR_VIRTIO &&
			   (f->device == VIRTIO_BLK || f->device == VIRTIO_NET)) ||
			  (f == bench_fn && bench_bound);
		snprintf(name, sizeof(name), "%.31s-rpcit", f->addr);
		if (ok && traffic && s[i].rpcit == 0) {
			diag("%s: the workloads ran but no RPCIT was counted", f->addr);
			ok = false;
		}
		if (ok && stats_own_rpcit(&s[i]) >= 0 &&
		    (long)s[i].rpcit != stats_own_rpcit(&s[i])) {
			diag("%s: QEMU counted %lu RPCITs, the kernel %ld (global %ld + sync %ld + sync map %ld)",
			     f->addr, s[i].rpcit, stats_own_rpcit(&s[i]),
			     s[i].global_rpcit, s[i].sync_rpcit, s[i].sync_map_rpcit);
			ok = false;
		}
		ktap_result(ok, name);

		snprintf(name, sizeof(name), "%.31s-balance", f->addr);
		if (f->vendor == PCI_VENDOR_VIRTIO && f->device == VIRTIO_NET)
			limit = 2048;	/* posted receive buffers */
		net = s[i].mapped - s[i].unmapped;
		if (ok && traffic && (s[i].mapped <= 0 || s[i].unmapped <= 0)) {
			diag("%s: the workloads ran but the mapping counters did not move",
			     f->addr);
			ok = false;
		}
		ok = ok && s[i].mapped >= 0 && s[i].unmapped >= 0 && net >= 0 &&
		     net <= limit;
		if (updated[i])
			diag("%s: %ld pages mapped, %ld unmapped since reset (%ld still mapped, at most %ld allowed)",
			     f->addr, s[i].mapped, s[i].unmapped, net, limit);
		ktap_result(ok, name);

		/*
		 * The kernel's own RPCIT counters, where it has them: with
		 * tlb_refresh every new mapping is refreshed (Sync Map); unmapped
		 * IOVAs are flushed globally by per-CPU flush queues (DMA-FQ),
		 * by the span it holds (Sync) or globally from a single queue,
		 * or range by range in strict mode (DMA).
		 */
		snprintf(name, sizeof(name), "%.31s-rpcit-kinds", f->addr);
		if (!updated[i] || !traffic || s[i].global_rpcit < 0) {
			ktap_skip(name, !updated[i] ? "no statistics" :
				  !traffic ? "no traffic" : "no RPCIT counters in this kernel");
			continue;
		}
		ok = s[i].sync_map_rpcit > 0;
		if (!ok)
			diag("%s: new mappings but no Sync Map RPCIT", f->addr);
		if (!strcmp(f->type, "DMA-FQ") && !strncmp(f->fq, "single,", 7)) {
			if (s[i].sync_rpcit <= 0) {
				diag("%s: single flush queue but no span flush (Sync RPCIT)",
				     f->addr);
				ok = false;
			}
			ok = stats_drains_ok(f, &s[i]) && ok;
		} else if (!strcmp(f->type, "DMA-FQ") && s[i].global_rpcit <= 0) {
			diag("%s: flush queue but no Global RPCIT", f->addr);
			ok = false;
		} else if (!strcmp(f->type, "DMA") && s[i].sync_rpcit <= 0) {
			diag("%s: strict mode but no Sync RPCIT", f->addr);
			ok = false;
		}
		ktap_result(ok, name);
	}
	ktap_end("stats", true);
}

/* ---------- workload: kmemleak ---------- */

/*
 * Last, after the other workloads: kmemleak (CONFIG_DEBUG_KMEMLEAK, with its
 * automatic scan off) must list no unreferenced object. The list is not
 * cleared first: leaks from the boot, when the functions were probed and
 * their domains and flush queues set up, count as much as the workloads'.
 * kmemleak reports an object only when it found it unreferenced and
 * unchanged in two scans, the second at least 5 s after the object was
 * allocated (MSECS_MIN_AGE); so the second scan starts wb.kmemleak.age
 * seconds after the first, and anything allocated before the workload
 * began is old enough by then.
 */
static bool kmemleak_scan(const char *file, double *secs)
{
	double t = now();
	int rc = write_file(file, "scan");

	*secs = now() - t;
	if (rc)
		diag("kmemleak: writing 'scan' to %s: %s%s", file, strerror(-rc),
		     rc == -ENOENT ? " (no CONFIG_DEBUG_KMEMLEAK, or booted with kmemleak=off)" :
		     rc == -EPERM ? " (kmemleak disabled itself: see the kernel log)" : "");
	return !rc;
}

static void wl_kmemleak(void)
{
	static const char file[] = "/sys/kernel/debug/kmemleak";
	long age = opt_long("wb.kmemleak.age", 6);
	double start = now(), first = 0, second = 0, left;
	char *line = NULL;
	size_t cap = 0;
	int leaks = 0, shown = 0;
	bool ok;
	FILE *f;

	ktap_begin("kmemleak", 2);
	ok = kmemleak_scan(file, &first);
	left = start + age - now();
	if (ok && left > 0)
		usleep(left * 1e6);
	ok = ok && kmemleak_scan(file, &second);
	if (ok)
		diag("kmemleak: scans took %.1f s and %.1f s", first, second);
	ktap_result(ok, "scan");

	f = ok ? fopen(file, "r") : NULL;
	if (!ok) {
		diag("kmemleak: no scan, so no verdict on leaks");
	} else if (!f) {
		diag("kmemleak: reading %s: %s", file, strerror(errno));
		ok = false;
	}
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "unreferenced object", 19))
			leaks++;
		/* The first objects, with their back traces, explain it. */
		if (shown < 30) {
			diag("kmemleak: %s", line);
			shown++;
		}
	}
	if (f)
		fclose(f);
	free(line);
	if (leaks)
		diag("kmemleak lists %d unreferenced objects", leaks);
	else if (shown)
		diag("kmemleak lists no unreferenced object but printed the lines above");
	ktap_result(ok && !leaks && !shown, "no-leaks");
	ktap_end("kmemleak", true);
}

/* ---------- runner self-tests ---------- */

static void wl_panic(void)
{
	diag("panicking on purpose");
	write_file("/proc/sysrq-trigger", "c");
	sleep(60);
}

/*
 * A kernel report through LKDTM, a WARN unless wb.lkdtm names another crash
 * type (WRITE_AFTER_FREE: a KASAN report on the debug kernel): the host must
 * fail the boot for it.
 */
static void wl_warn(void)
{
	const char *type = opt_str("wb.lkdtm", "WARNING");
	int rc;

	diag("provoking a kernel report (LKDTM %s) on purpose", type);
	rc = write_file("/sys/kernel/debug/provoke-crash/DIRECT", type);
	if (rc)
		diag("lkdtm: %s", strerror(-rc));
}

static void wl_hang(void)
{
	diag("hanging on purpose");
	for (;;)
		pause();
}

/*
 * The kmemleak test module (CONFIG_DEBUG_KMEMLEAK_TEST) leaks on purpose as
 * it loads: the kmemleak workload after this one must fail. boot.sh puts
 * the module in /lib/modules/ (the test's MODULES).
 */
static void wl_leak(void)
{
	static const char mod[] = "/lib/modules/kmemleak-test.ko";
	int fd = open(mod, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && !syscall(SYS_finit_module, fd, "", 0);

	if (!ok)
		diag("loading %s: %s", mod, strerror(errno));
	else
		diag("loaded %s, which leaks on purpose", mod);
	if (fd >= 0)
		close(fd);
	ktap_result(ok, "leak");
}

static void wl_fail(void)
{
	ktap_begin("fail", 1);
	diag("this line explains the failure");
	ktap_result(false, "always");
	ktap_end("fail", true);
}

/* ---------- main ---------- */

struct workload {
	const char *name;
	void (*run)(void);
};

static const struct workload workloads[] = {
	{ "groups", wl_groups },
	{ "blk", wl_blk },
	{ "blkread", wl_blkread },
	{ "hotplug", wl_hotplug },
	{ "recover", wl_recover },
	{ "err-unplug", wl_err_unplug },
	{ "err-recover", wl_err_recover },
	{ "nodomain", wl_nodomain },
	{ "net", wl_net },
	{ "dmabench", wl_dmabench },
	{ "rpcitfail", wl_rpcitfail },
	{ "stats", wl_stats },
	{ "kmemleak", wl_kmemleak },
	{ "panic", wl_panic },
	{ "hang", wl_hang },
	{ "warn", wl_warn },
	{ "fail", wl_fail },
	{ "leak", wl_leak },
};

static void setup(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

int main(void)
{
	char run[512], *tok, *save;
	const struct workload *todo[32];
	const char *unknown[32];
	int n = 0, i;
	unsigned int w;

	setup();
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	snprintf(run, sizeof(run), "%s", opt_str("wb.run", ""));

	printf("wb: init started\n");
	for (tok = strtok_r(run, ",", &save); tok && n < 32;
	     tok = strtok_r(NULL, ",", &save)) {
		for (w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++)
			if (!strcmp(workloads[w].name, tok))
				break;
		todo[n] = NULL;
		if (w < sizeof(workloads) / sizeof(workloads[0]))
			todo[n] = &workloads[w];
		unknown[n++] = tok;
	}

	scan_fns();
	for (i = 0; i < n; i++)
		if (todo[i] && (todo[i]->run == wl_dmabench ||
				todo[i]->run == wl_rpcitfail)) {
			bench_fn = spare_fn();
			bench_bound = bench_fn && bind_benchmark(bench_fn);
			scan_fns();
			bench_fn = spare_fn();
			break;
		}
	if (opt_long("wb.stats", 0))
		stats_reset_all();
	ktap_plan(n);
	wl_info();
	for (i = 0; i < n; i++) {
		if (todo[i]) {
			todo[i]->run();
			continue;
		}
		diag("unknown workload '%s'", unknown[i]);
		ktap_result(false, unknown[i]);
	}
	printf("wb: bytes verified %llu\n", bytes_verified);
	printf("wb: done\n");
	fflush(stdout);
	/*
	 * The console driver sends what it was given in the background: a
	 * power-off right away can lose the last lines (seen once on a loaded
	 * machine, the kmemleak result and "wb: done" missing). Wait until
	 * the console has sent them.
	 */
	tcdrain(STDOUT_FILENO);
	usleep(200000);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
