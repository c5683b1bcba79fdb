// SPDX-License-Identifier: GPL-2.0
/* kmemscope agent: always on, kernel memory per call site for Prometheus. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "agg.h"
#include "cmds.h"
#include "httpd.h"
#include "metrics.h"
#include "out.h"
#include "safefile.h"
#include "session.h"
#include "util.h"
#include "version.h"

/* Not in the Prometheus wiki's list of exporter ports: 9100-9999 there is
 * full (every port allocated), and 19183 is in no /etc/services either. */
#define AGENT_LISTEN		"127.0.0.1:19183"
#define AGENT_INTERVAL		10.0		/* s: growth samples, the textfile */
#define AGENT_TOP		20		/* call sites per family */
#define AGENT_MAX_TRACKED	(1ull << 20)	/* outstanding allocations tracked */

struct agent {
	struct cli_opts *o;
	struct httpd *h;
	struct session *s;
	struct agent_view v;
	bool textfile_failed;	/* warned once */
};

static volatile sig_atomic_t reload_asked;

static void on_hup(int sig)
{
	(void)sig;
	reload_asked = 1;
}

static int render(struct agent *a, bool process, enum metrics_format fmt, char **body,
		  size_t *len)
{
	FILE *f = open_memstream(body, len);
	struct agent_view v = a->v;
	int err;

	if (!f)
		return -ENOMEM;
	v.process = process;
	metrics__set_format(fmt);
	err = agent__render(f, a->s, &v);
	metrics__end(f);
	metrics__set_format(METRICS_TEXT);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*body);
		*body = NULL;
	}
	return err;
}

/* /metrics in the format the scraper asks for first: OpenMetrics for
 * Prometheus, the 0.0.4 text format for curl and older scrapers. */
static int handle(const char *path, const char *accept, char **body, size_t *len,
		  const char **type, void *ctx)
{
	struct agent *a = ctx;
	static const char index[] = "kmemscope agent: the metrics are at /metrics\n";
	enum metrics_format fmt = metrics__negotiate(accept);

	if (!strcmp(path, "/metrics")) {
		*type = fmt == METRICS_OPENMETRICS ? OPENMETRICS_CONTENT_TYPE : METRICS_CONTENT_TYPE;
		return render(a, true, fmt, body, len) ? 500 : 200;
	}
	if (strcmp(path, "/"))
		return 404;
	*body = strdup(index);
	*len = *body ? strlen(index) : 0;
	return 200;
}

/* --textfile: for node_exporter's textfile collector, replaced whole. */
static void write_textfile(struct agent *a)
{
	struct safe_file sf;
	char *body = NULL;
	size_t len = 0;
	int err = render(a, false, METRICS_TEXT, &body, &len);	/* node_exporter reads text */

	if (!err && !(err = safe_file__open(&sf, a->o->textfile))) {
		if (fwrite(body, 1, len, sf.f) != len) {
			err = -EIO;
			safe_file__abort(&sf);
		} else {
			err = safe_file__commit(&sf);
		}
	}
	free(body);
	if (err && !a->textfile_failed)
		kms_warn("--textfile %s: %s (tried again every interval)", a->o->textfile,
			 strerror(-err));
	a->textfile_failed = err != 0;
}

static int tick(struct session *s, void *ctx)
{
	struct agent *a = ctx;

	a->s = s;
	agg__sample(session__agg(s));
	if (a->o->textfile)
		write_textfile(a);
	return 0;
}

/* SIGHUP: the kernel's symbols again (modules loaded since), the textfile now. */
static void reload(struct agent *a)
{
	int err;

	reload_asked = 0;
	err = session__reload_symbols(a->s);
	if (err)
		kms_warn("SIGHUP: /proc/kallsyms: %s (the old symbols kept)", strerror(-err));
	else
		fprintf(stderr, "kmemscope agent: SIGHUP: kernel symbols read again\n");
	if (a->o->textfile)
		write_textfile(a);
}

static int idle(struct session *s, void *ctx)
{
	struct agent *a = ctx;

	a->s = s;
	if (reload_asked)
		reload(a);
	httpd__serve(a->h);
	return 0;
}

static void started(struct session *s, void *ctx)
{
	struct agent *a = ctx;
	struct sigaction sa = { .sa_handler = on_hup };

	a->s = s;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);	/* reloads here, where it ends other commands */
	fprintf(stderr, "kmemscope agent: serving http://%s/metrics%s%s\n",
		httpd__address(a->h), a->o->textfile ? ", writing " : "",
		a->o->textfile ? a->o->textfile : "");
	if (a->o->textfile)
		write_textfile(a);
}

static int run(struct cli_opts *o)
{
	struct agent a = { .o = o };
	struct session_opts so;
	struct timespec now;
	char err[160];
	int rc;

	if (o->json)
		return kms_err(KMS_EXIT_USAGE, "agent: no --json: it serves metrics");
	clock_gettime(CLOCK_REALTIME, &now);
	a.v = (struct agent_view){ .top = o->top ? o->top : AGENT_TOP, .version = kms_version(),
				   .start_time = now.tv_sec + now.tv_nsec / 1e9 };
	if (!(a.h = httpd__open(o->listen ? o->listen : AGENT_LISTEN, handle, &a, err,
				sizeof(err))))
		return kms_err(KMS_EXIT_FAIL, "agent: %s", err);
	cmds__session_opts(o, &so);
	so.interval = o->interval > 0 ? o->interval : AGENT_INTERVAL;
	so.max_live = o->max_tracked ? o->max_tracked : AGENT_MAX_TRACKED;
	so.tick = tick;
	so.idle = idle;
	so.started = started;
	so.tick_ctx = &a;
	if (!(rc = session__open(&a.s, &so))) {
		rc = session__run(a.s);
		session__close(a.s);
	}
	httpd__close(a.h);
	return rc;
}

const struct cli_cmd cmd_agent = {
	.name = "agent",
	.summary = "always on: per-call-site kernel memory as Prometheus metrics",
	.opts = OPT_SET_DURATION | OPT_SET_INTERVAL | OPT_SET_PID | OPT_SET_RING |
		OPT_SET_CALLERS | OPT_SET_TRACKED | OPT_SET_AGENT | OPT_SET_CGROUP | OPT_SET_SAMPLE,
	.opt_help = (const struct cli_help[]){
		{ "duration", "stop after this long (default: until SIGTERM or Ctrl-C)" },
		{ "interval", "growth samples and the --textfile, this often (default 10s)" },
		{ "max-tracked", "outstanding allocations tracked at most (default 1048576); "
				 "beyond it they are counted in "
				 "kmemscope_untracked_allocations_total" },
		{ NULL },
	},
	.run = run,
	.usage =
	"Usage: kmemscope agent [--listen ADDR] [--textfile FILE] [--top N] [-i INTERVAL]\n"
	"                       [--max-tracked N] [-p PID] [--cgroup PATH] [--ring-mb N]\n"
	"                       [-d SECONDS]\n"
	"\n"
	"Traces every allocator family until stopped and serves Prometheus metrics at\n"
	"http://ADDR/metrics (default " AGENT_LISTEN ": loopback only): per call site\n"
	"allocations, frees, bytes, outstanding allocations and bytes, growth; per\n"
	"family totals; outstanding bytes per leak class (leak, reclaimable, process,\n"
	"rcu_deferred, allocator: see 'kmemscope leaks'); free blocks, unusable free\n"
	"space and fragmentation index per zone and order (/proc/buddyinfo); every\n"
	"trust counter (lost records, unmatched and missed frees, untracked\n"
	"allocations...); the agent's own CPU and RSS (process_*).\n"
	"\n"
	"Memory stays bounded: at most --max-tracked outstanding allocations are\n"
	"tracked (the rest counted), and per family only the --top call sites by\n"
	"bytes get series of their own, the rest one caller=\"other\" series, so the\n"
	"call-site series of a family always add up to its totals. Counters start at\n"
	"the agent's start; rate() and deriv() give windows. SIGHUP reads the kernel's\n"
	"symbols again (modules loaded since) and rewrites the textfile.\n",
	.more =
	"Runs under systemd as kmemscope-agent.service (shipped with the package).\n"
	"A scrape config for Prometheus: /usr/share/doc/kmemscope/examples/prometheus.yml\n"
	"(dist/prometheus.yml in the sources).\n"
	"\n"
	"EXAMPLES\n"
	"  sudo kmemscope agent                          # curl localhost:19183/metrics\n"
	"  sudo kmemscope agent --listen :19183 --top 50 # every address, more sites\n"
	"  sudo kmemscope agent --textfile /var/lib/prometheus/node-exporter/kmemscope.prom\n",
};
