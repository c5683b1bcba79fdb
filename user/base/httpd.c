// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "httpd.h"
#include "util.h"

#define REQUEST_MAX	4096
#define IO_TIMEOUT_S	1

struct httpd {
	int fd;
	httpd_handler fn;
	void *ctx;
	char address[80];
};

/* "HOST:PORT" -> host (NULL for any) and port, in place. */
static int split(char *buf, char **host, char **port)
{
	char *colon = strrchr(buf, ':');

	if (!colon || !colon[1])
		return -EINVAL;
	*colon = 0;
	*port = colon + 1;
	*host = buf;
	if (**host == '[') {		/* [::1]:PORT */
		size_t n = strlen(*host);

		if (n < 2 || (*host)[n - 1] != ']')
			return -EINVAL;
		(*host)[n - 1] = 0;
		(*host)++;
	}
	if (!**host)
		*host = NULL;
	return 0;
}

/* @host (NULL: every address) and @port as a socket address. Numeric
 * addresses only, and "localhost": no resolver, so the static build needs no
 * NSS libraries at run time. */
static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	uint64_t p;

	if (parse_u64(port, 0, 65535, &p))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!host || !strcmp(host, "localhost") || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(p);
		v4->sin_addr.s_addr = htonl(!host ? INADDR_ANY :
					    strcmp(host, "localhost") ? ntohl(v4->sin_addr.s_addr) :
					    INADDR_LOOPBACK);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1)
		return -EINVAL;
	v6->sin6_family = AF_INET6;
	v6->sin6_port = htons(p);
	*len = sizeof(*v6);
	return 0;
}

static int listen_on(const struct sockaddr_storage *ss, socklen_t len)
{
	int one = 1, fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void describe(struct httpd *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	const void *a;
	int port;

	if (getsockname(h->fd, (struct sockaddr *)&ss, &len))
		return;
	a = &((struct sockaddr_in *)&ss)->sin_addr;
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6) {
		a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	if (inet_ntop(ss.ss_family, a, host, sizeof(host)))
		snprintf(h->address, sizeof(h->address),
			 ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

struct httpd *httpd__open(const char *addr, httpd_handler fn, void *ctx, char *err,
			  size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[128], *host, *port;
	struct httpd *h;
	int fd;

	if (strlen(addr) >= sizeof(buf) || (snprintf(buf, sizeof(buf), "%s", addr),
					      split(buf, &host, &port)) ||
	    parse_addr(host, port, &ss, &len)) {
		snprintf(err, errlen, "'%s' is not HOST:PORT (a numeric address, or localhost)",
			 addr);
		return NULL;
	}
	fd = listen_on(&ss, len);
	if (fd < 0 || !(h = calloc(1, sizeof(*h)))) {
		snprintf(err, errlen, "listening on %s: %s", addr, strerror(fd < 0 ? -fd : ENOMEM));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	h->fd = fd;
	h->fn = fn;
	h->ctx = ctx;
	describe(h);
	return h;
}

const char *httpd__address(const struct httpd *h)
{
	return h->address;
}

int httpd__fd(const struct httpd *h)
{
	return h->fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* the client went away or stalled: drop it */
		p += w;
		n -= w;
	}
}

/* Read up to the end of the request head; its length, or -1. */
static int read_request(int fd, char *req, size_t cap)
{
	size_t n = 0;

	while (n < cap - 1) {
		ssize_t r = recv(fd, req + n, cap - 1 - n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n += r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			return n;
	}
	return -1;
}

/* The value of header NAME (its first line) in request head REQ, or "". */
static void header(const char *req, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), len;
	const char *p = req;

	out[0] = 0;
	while ((p = strchr(p, '\n'))) {
		p++;
		if (strncasecmp(p, name, n) || p[n] != ':')
			continue;
		p += n + 1;
		p += strspn(p, " \t");
		len = strcspn(p, "\r\n");
		if (len >= cap)
			len = cap - 1;
		memcpy(out, p, len);
		out[len] = 0;
		return;
	}
}

static void answer(struct httpd *h, int fd)
{
	static const char *const reasons[] = { [0] = "OK", [1] = "Not Found",
					       [2] = "Method Not Allowed", [3] = "Bad Request" };
	char req[REQUEST_MAX], head[256], path[256] = "", accept[512];
	const char *type = "text/plain; charset=utf-8";
	char *body = NULL;
	size_t len = 0;
	int status = 400, why = 3;
	bool head_only = false;

	if (read_request(fd, req, sizeof(req)) < 0)
		return;
	if (sscanf(req, "GET %255s HTTP/", path) == 1 ||
	    (head_only = sscanf(req, "HEAD %255s HTTP/", path) == 1)) {
		char *q = strchr(path, '?');

		if (q)
			*q = 0;		/* /metrics?name[]=...: the whole page anyway */
		header(req, "Accept", accept, sizeof(accept));
		status = h->fn(path, accept, &body, &len, &type, h->ctx);
		why = status == 200 ? 0 : 1;
	} else if (strchr(req, ' ')) {
		status = 405, why = 2;
	}
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", status, reasons[why], type, len);
	send_all(fd, head, strlen(head));
	if (!head_only && body)
		send_all(fd, body, len);
	free(body);
}

int httpd__serve(struct httpd *h)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int n = 0, fd;

	while ((fd = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		answer(h, fd);
		close(fd);
		n++;
	}
	return n;
}

void httpd__close(struct httpd *h)
{
	if (!h)
		return;
	close(h->fd);
	free(h);
}
