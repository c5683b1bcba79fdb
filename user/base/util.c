// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Whole decimal number in [min, max]; nothing may trail it. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Seconds: digits with an optional fraction ("10", "0.5", ".5"), then an
 * optional unit: ms, s, m or h. Nothing else: no sign, exponent, hex, space,
 * inf or nan. In [min, max] seconds. */
int parse_seconds(const char *s, double min, double max, double *out)
{
	static const struct { const char *unit; double mult; } units[] = {
		{ "", 1 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
	};
	size_t digits, frac = 0, len;
	double v;

	if (!s)
		return -EINVAL;
	digits = strspn(s, "0123456789");
	len = digits;
	if (s[len] == '.') {
		frac = strspn(s + len + 1, "0123456789");
		len += 1 + frac;
	}
	if (digits + frac == 0 || len > 32)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(s + len, units[i].unit))
			continue;
		v = strtod(s, NULL) * units[i].mult;	/* only digits and a dot: no surprise */
		if (!isfinite(v) || v < min || v > max)
			return -ERANGE;
		*out = v;
		return 0;
	}
	return -EINVAL;
}

bool str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = 0;
	return n;
}

const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		return "unknown";
	return u.release;
}

/* Where the last `keep` bytes of s (len bytes) start, moved on to the next
 * line start (if one is among them): the tail of a long log, whole lines. */
size_t line_tail(const char *s, size_t len, size_t keep)
{
	const char *nl;

	if (len <= keep)
		return 0;
	nl = memchr(s + len - keep - 1, '\n', keep);
	return nl ? (size_t)(nl + 1 - s) : len - keep;
}

/* MurmurHash3's 64-bit finalizer: every input bit moves every output bit. */
uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}
