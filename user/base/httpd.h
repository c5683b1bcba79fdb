/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny HTTP/1.0-style server for the agent's /metrics, single-threaded and
 * driven from the session's poll loop: a non-blocking listening socket that
 * httpd__serve() drains of waiting connections. Each connection is one GET,
 * answered in full and closed; a client that does not send its request
 * within a second is dropped (so one slow client stalls tracing at most that
 * long). No keep-alive, no chunking: Prometheus's scraper needs neither.
 */
#ifndef KMS_HTTPD_H
#define KMS_HTTPD_H

#include <stddef.h>

struct httpd;

/* The body for a GET of @path into *body (malloc()ed, *len bytes) and its
 * content type; the HTTP status (200, 404). */
/* accept: the request's Accept header ("" when it had none) */
typedef int (*httpd_handler)(const char *path, const char *accept, char **body, size_t *len,
			     const char **content_type, void *ctx);

/* Listen on ADDR: "HOST:PORT", "[V6]:PORT" or ":PORT" (every IPv4 address);
 * HOST numeric or "localhost".
 * Error text in @err; NULL on failure. */
struct httpd *httpd__open(const char *addr, httpd_handler fn, void *ctx, char *err,
			  size_t errlen);
/* "127.0.0.1:19183": where it listens (the port chosen, for :0). */
const char *httpd__address(const struct httpd *h);
int httpd__fd(const struct httpd *h);
/* Answer every connection waiting now; the number served. */
int httpd__serve(struct httpd *h);
void httpd__close(struct httpd *h);

#endif
