// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <bpf/libbpf.h>
#include "agg.h"
#include "callsite.h"
#include "decode.h"
#include "ksyms.h"
#include "out.h"
#include "session.h"
#include "util.h"
#include "zoneinfo.h"

#define POLL_MS 50

struct session {
	struct session_opts o;
	struct ksyms *ks;
	struct tracer *tracer;
	struct callsite *cs;
	struct agg *agg;
	struct decoder *dec;
	struct zoneinfo *zi;
	struct ring_buffer *rb;
	uint64_t start_ns, end_ns;
	pid_t child;
	int go_fd;		/* child waits on it until tracing is on */
	int cmd_status;
	uint64_t received, names;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
	signal(sig, SIG_DFL);	/* a second Ctrl-C kills */
}

int session__check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};
	const int bpf = 39, perfmon = 38;	/* CAP_BPF, CAP_PERFMON (5.8+) */

	if (geteuid() == 0)
		return 0;
	if (!syscall(SYS_capget, &h, d) &&
	    (d[1].effective & (1u << (bpf - 32))) && (d[1].effective & (1u << (perfmon - 32))))
		return 0;
	return kms_err(KMS_EXIT_FAIL, "tracing needs root (or CAP_BPF and CAP_PERFMON): "
		       "try sudo");
}

int session__load_ksyms(struct ksyms **out)
{
	*out = ksyms__load("/proc/kallsyms");
	if (*out)
		return 0;
	if (errno == EACCES)
		return kms_err(KMS_EXIT_FAIL, "/proc/kallsyms hides addresses "
			       "(run as root; check kernel.kptr_restrict)");
	return kms_err(KMS_EXIT_FAIL, "cannot read /proc/kallsyms: %s", strerror(errno));
}

int session__check_command(char **argv)
{
	char path[4096];
	const char *p = getenv("PATH");

	if (strchr(argv[0], '/'))
		return access(argv[0], X_OK) ? kms_err(KMS_EXIT_USAGE, "cannot run '%s': %s",
						       argv[0], strerror(errno)) : 0;
	for (p = p ? p : "/usr/bin:/bin"; *p; p += *p == ':') {
		size_t n = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? p : ".", argv[0]);
		if (!access(path, X_OK))
			return 0;
		p += n;
	}
	return kms_err(KMS_EXIT_USAGE, "command not found: %s", argv[0]);
}

/* Fork the command now, but hold it until tracing is attached. */
static int spawn(struct session *s)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	s->child = fork();
	if (s->child < 0)
		return -errno;
	if (s->child == 0) {
		char c;

		close(fds[1]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		execvp(s->o.command[0], s->o.command);
		fprintf(stderr, "kmemscope: error: cannot run '%s': %s\n", s->o.command[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	s->go_fd = fds[1];
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	const struct kms_rec_hdr *h = data;

	if (size >= sizeof(*h) && h->type == KMS_REC_CACHE_NAME)
		s->names++;
	else
		s->received++;
	return decoder__record(s->dec, data, size) == -ENOMEM ? -ENOMEM : 0;
}

static int open_tracer(struct session *s)
{
	int err = tracer__open(&s->tracer, &s->o.tracer, s->ks);

	if (!err)
		return 0;
	if (err == -EPERM || err == -EACCES)
		return kms_err(KMS_EXIT_FAIL, "the kernel refused BPF (%s): need root or "
			       "CAP_BPF+CAP_PERFMON, and kernel.unprivileged_bpf_disabled "
			       "does not apply to root", strerror(-err));
	return kms_err(KMS_EXIT_FAIL, "cannot load the BPF programs: %s (run with -v for "
		       "libbpf's log)", strerror(-err));
}

static int setup(struct session *s)
{
	const char *missing;
	int rc;

	if ((rc = session__check_privileges()) || (rc = session__load_ksyms(&s->ks)))
		return rc;
	if ((rc = open_tracer(s)))
		return rc;
	if (!tracer__feat(s->tracer)->btf)
		return kms_err(KMS_EXIT_SKIP, "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
			       "CO-RE programs cannot load");
	if (!tracer__complete(s->tracer, &missing))
		kms_warn("no usable hook for the %s family: see 'kmemscope probes'", missing);
	s->cs = callsite__new(s->ks);
	s->agg = agg__new();
	s->dec = s->agg && s->cs ? decoder__new(s->agg, s->cs) : NULL;
	if (!s->dec)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->zi = zoneinfo__new();
	if (s->zi && zoneinfo__load(s->zi, "/proc") == 0)
		decoder__set_zones(s->dec, s->zi);
	else
		kms_info("no zone layout from /proc/zoneinfo: page zones unknown");
	s->rb = ring_buffer__new(tracer__ring_fd(s->tracer), on_record, s, NULL);
	if (!s->rb)
		return kms_err(KMS_EXIT_FAIL, "cannot open the ring buffer: %s", strerror(errno));
	return 0;
}

int session__open(struct session **out, const struct session_opts *o)
{
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return kms_err(KMS_EXIT_FAIL, "out of memory");
	s->o = *o;
	s->go_fd = -1;
	s->cmd_status = -1;
	if (o->command && (rc = session__check_command(o->command))) {
		free(s);
		return rc;
	}
	rc = setup(s);
	if (rc) {
		session__close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static bool child_done(struct session *s)
{
	int status;

	if (s->child <= 0)
		return false;
	if (waitpid(s->child, &status, WNOHANG) != s->child)
		return false;
	s->cmd_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	s->child = 0;
	return true;
}

static int drain(struct session *s)
{
	int n;

	agg__set_now(s->agg, now_ns() - s->start_ns);
	while ((n = ring_buffer__consume(s->rb)) > 0)
		;
	return n < 0 ? kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n)) : 0;
}

static int loop(struct session *s)
{
	uint64_t next_tick = s->start_ns + s->o.interval * 1e9;
	uint64_t end = s->o.duration > 0 ? s->start_ns + s->o.duration * 1e9 : UINT64_MAX;
	int n;

	while (!stop && now_ns() < end && !child_done(s)) {
		n = ring_buffer__poll(s->rb, POLL_MS);
		agg__set_now(s->agg, now_ns() - s->start_ns);
		if (n >= 0)
			n = ring_buffer__consume(s->rb);
		if (n < 0 && n != -EINTR)
			return kms_err(KMS_EXIT_FAIL, "reading the ring buffer: %s", strerror(-n));
		if (s->o.interval > 0 && s->o.tick && now_ns() >= next_tick) {
			next_tick += s->o.interval * 1e9;
			if ((n = s->o.tick(s, s->o.tick_ctx)))
				return n;
		}
	}
	return 0;
}

int session__run(struct session *s)
{
	int rc;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (s->o.command && spawn(s))
		return kms_err(KMS_EXIT_FAIL, "cannot start the command: %s", strerror(errno));
	s->start_ns = now_ns();
	if (s->go_fd >= 0) {		/* tracing is on: let the command go */
		if (write(s->go_fd, "g", 1) != 1)
			kms_warn("could not start the command");
		close(s->go_fd);
		s->go_fd = -1;
	}
	rc = loop(s);
	tracer__detach(s->tracer);
	s->end_ns = now_ns();
	if (s->child > 0 && stop) {	/* interrupted: the command goes too */
		kill(s->child, SIGTERM);
		waitpid(s->child, NULL, 0);
		s->child = 0;
	}
	return rc ? rc : drain(s);
}

void session__close(struct session *s)
{
	if (!s)
		return;
	if (s->go_fd >= 0)
		close(s->go_fd);
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
	}
	ring_buffer__free(s->rb);
	tracer__close(s->tracer);
	decoder__free(s->dec);
	agg__free(s->agg);
	callsite__free(s->cs);
	zoneinfo__free(s->zi);
	ksyms__free(s->ks);
	free(s);
}

double session__elapsed(const struct session *s)
{
	uint64_t end = s->end_ns ? s->end_ns : now_ns();

	return s->start_ns ? (end - s->start_ns) / 1e9 : 0;
}

int session__command_status(const struct session *s) { return s->cmd_status; }
struct agg *session__agg(const struct session *s) { return s->agg; }
struct decoder *session__decoder(const struct session *s) { return s->dec; }
const struct ksyms *session__ksyms(const struct session *s) { return s->ks; }
const struct tracer *session__tracer(const struct session *s) { return s->tracer; }
const struct zoneinfo *session__zones(const struct session *s) { return s->zi; }

int session__totals(struct session *s, struct session_totals *t)
{
	int err = tracer__counters(s->tracer, &t->raw);

	if (err)
		return err;
	t->seen = t->emitted = t->dropped = t->filtered = 0;
	for (int e = 0; e < KMS_EV_NR; e++) {
		t->seen += t->raw.seen[e];
		t->emitted += t->raw.emitted[e];
		t->dropped += t->raw.dropped[e];
		t->filtered += t->raw.filtered[e];
	}
	t->received = s->received;
	return 0;
}
