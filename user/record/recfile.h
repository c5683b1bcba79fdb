/* SPDX-License-Identifier: GPL-2.0 */
/*
 * recfile: the kmemscope recording format (docs/recording-format.md), a
 * writer and a reader. No /proc, no BPF here: the writer is fed by the
 * session's tap (rectap.c), the reader by a file or a buffer (fuzzing).
 *
 * A file is a 16-byte header and a sequence of frames, each with its own
 * length and CRC and independently zlib-compressed, so a truncated file
 * reads up to its last good frame. Every length and count read from a file
 * is bounded before use; malformed input gives an error string, never a
 * crash.
 */
#ifndef KMS_RECFILE_H
#define KMS_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kms_records.h"

#define REC_VERSION	1
#define REC_FILE_HDR	16
#define REC_FRAME_HDR	24
#define REC_FRAME_MAX	(32u << 20)	/* raw bytes of one frame */
#define REC_CHUNK_RAW	(1u << 20)	/* events chunk is flushed at this size */
#define REC_ITEM_MAX	4096		/* one ring record */
#define REC_TEXT_MAX	(64u << 20)	/* all frames of one text kind together */

enum rec_frame {
	REC_F_META = 1,		/* text "key=value" lines; must be the first frame */
	REC_F_ZONEINFO,		/* raw /proc/zoneinfo */
	REC_F_BUDDYINFO,	/* raw /proc/buddyinfo */
	REC_F_PAGETYPEINFO,	/* raw /proc/pagetypeinfo */
	REC_F_PROBES,		/* text: family event mechanism target attached reason (tabs) */
	REC_F_GFP,		/* text: "bit\tname" lines, bit 0..31 */
	REC_F_PAGESEED,		/* binary: per zone, runs of page classes */
	REC_F_KSYMS,		/* kallsyms text lines, only the symbols the events need */
	REC_F_EVENTS,		/* items (enum rec_item) */
	REC_F_STACKS,		/* binary: {u32 id, u32 nr, u64 frames[nr]}... */
	REC_F_COUNTERS,		/* binary: struct rec_counters snapshot */
	REC_F_END,		/* binary: struct rec_end; the file is complete */
	REC_F_COUNTERS_X,	/* binary: more counters for the COUNTERS frame before it */
	REC_F_PAGESEED_KINDS,	/* binary: PAGESEED with every class and the managed counts */
	REC_F_SLABALIAS,	/* text: "name\ttarget" per /sys/kernel/slab symlink (slabalias.h) */
	REC_F_LEFTOVER,		/* text: a tgid a line, the command's processes still running */
	REC_F_OWNERS,		/* text: "tgid\tcomm\tcgroup" lines (owners.h) */
	REC_F_NR,
};

enum rec_item {		/* an item in an EVENTS frame: u32 (kind << 24 | len), payload */
	REC_I_TIME = 1,		/* u64 ns since the trace began: agg__set_now() */
	REC_I_RECORD,		/* one ring-buffer record, as kms_records.h lays it out */
	REC_I_LOSS,		/* u64 dropped since the last LOSS, u64 dropped in all */
	REC_I_TICK,		/* u64 elapsed_ns, u64 now_ns: the live session's tick ran here */
	REC_I_BUDDYINFO,	/* /proc/buddyinfo lines read at this point (adds up until a TICK) */
};

#define REC_COUNTERS_X_MAX 64	/* values in a COUNTERS_X frame */

struct rec_counters {
	uint64_t t_ns;		/* when read, ns since the trace began */
	uint64_t received;	/* records read from the ring (cache names excluded) */
	struct kms_counters c;	/* summed over CPUs; c.scratch is not stored */
	/* from COUNTERS_X (absent in older files: then 0, has_x false) */
	uint64_t recursion_misses;	/* tracer__recursion_misses() */
	bool has_x;
};

struct rec_end {
	uint64_t elapsed_ns;	/* session__elapsed() */
	uint64_t final_now_ns;	/* the last agg__set_now() */
	int64_t command_status;	/* -1: none or killed */
	uint64_t records, chunks;	/* filled in by the writer */
	uint64_t window_end_ns;	/* session__window_end(): a settle period may follow */
	int64_t leftover_procs;	/* session__leftover_procs() */
	bool isolated;		/* session__isolated() */
};

/* ---- writer ---- */
struct recw;

/* Create path.tmp (mode 0600); -EEXIST when path exists and !force. */
int recw__create(struct recw **out, const char *path, bool force);
/* A whole frame (text sections and the like). */
int recw__frame(struct recw *w, enum rec_frame type, const void *data, size_t len);
int recw__record(struct recw *w, uint64_t now_ns, const void *rec, size_t size);
int recw__loss(struct recw *w, uint64_t dropped_total);
/* The session's tick callback ran now (after the records before it). */
int recw__tick(struct recw *w, uint64_t elapsed_ns, uint64_t now_ns);
/* Text read at this point of the stream (REC_I_BUDDYINFO), in items of whole
 * lines of at most REC_ITEM_MAX bytes. */
int recw__text_items(struct recw *w, enum rec_item kind, const char *text, size_t len);
/* Write out the pending events chunk, if any. */
int recw__flush(struct recw *w);
/* A COUNTERS frame and its COUNTERS_X frame. */
int recw__counters(struct recw *w, const struct rec_counters *c);
int recw__stacks(struct recw *w, const void *data, size_t len);
/* END frame, fsync, rename to the final name. */
int recw__finish(struct recw *w, const struct rec_end *e);
/* A recording that could not finish (a full disk, an error) but holds
 * events: keep what was written, readable up to its last complete chunk.
 * 0: now at path; 1: left at path.tmp (path exists); -ENODATA: nothing to
 * keep (recw__free() removes it). */
int recw__keep(struct recw *w);
/* Removes path.tmp unless finished or kept. */
void recw__free(struct recw *w);
uint64_t recw__bytes(const struct recw *w);
uint64_t recw__records(const struct recw *w);
const char *recw__path(const struct recw *w);
const char *recw__tmp(const struct recw *w);
/* Chunk flush hook: called with the chunk's raw items before it is written
 * (the tap adds the symbols they need first). */
void recw__on_flush(struct recw *w, int (*fn)(void *ctx, const uint8_t *items, size_t len),
		    void *ctx);

/* Visit the addresses (callers, frames) and stack ids in one record. */
void rec__addrs(const void *rec, size_t size, void (*addr)(void *ctx, uint64_t a),
		void (*stack)(void *ctx, int32_t id), void *ctx);

/* ---- reader ---- */
struct recr;

struct rec_replay_ops {
	/* Any may be NULL; a non-zero return stops the replay with that value. */
	int (*time)(void *ctx, uint64_t now_ns);
	int (*record)(void *ctx, const void *rec, size_t size);	/* aligned copy */
	int (*loss)(void *ctx, uint64_t dropped, uint64_t total);
	int (*tick)(void *ctx, uint64_t elapsed_ns, uint64_t now_ns);
	int (*text)(void *ctx, enum rec_item kind, const char *text, size_t len);
};

/* 0, or -errno with a one-line message in err. The file is mapped. */
int recr__open(struct recr **out, const char *path, char *err, size_t errlen);
/* Same over a buffer that must outlive the reader. */
int recr__open_mem(struct recr **out, const void *buf, size_t len, char *err, size_t errlen);
void recr__free(struct recr *r);
/* Why the scan stopped early ("" for a complete file). */
const char *recr__damage(const struct recr *r);
bool recr__complete(const struct recr *r);
/* Damaged frames stepped over to the next good one, and their bytes. */
uint64_t recr__damaged_frames(const struct recr *r);
uint64_t recr__bytes_skipped(const struct recr *r);
const char *recr__meta(const struct recr *r, const char *key);	/* value or NULL */
/* Concatenated text of every frame of this kind (NUL-terminated), or NULL. */
const char *recr__text(const struct recr *r, enum rec_frame type, size_t *len);
const struct rec_end *recr__end(const struct recr *r);	/* NULL: no END frame */
/* The last snapshot at or before upto_ns (UINT64_MAX: the last); NULL if none. */
const struct rec_counters *recr__counters(const struct recr *r, uint64_t upto_ns);
/* Frames of stack id (innermost first); 0 if unknown. */
unsigned int recr__stack(const struct recr *r, int32_t id, const uint64_t **frames);
uint64_t recr__chunks(const struct recr *r);
/* Decompress the events chunks in order and call ops. 0, the callback's
 * value, or -EBADMSG with a message in err (a chunk that passed its CRC
 * but holds malformed items). */
int recr__replay(struct recr *r, const struct rec_replay_ops *ops, void *ctx,
		 char *err, size_t errlen);
#define REC_MANAGED_UNKNOWN	UINT64_MAX	/* a PAGESEED frame has no managed count */

/* Page-class runs of the seed for zone index zi: fn(ctx, class, pages), and the
 * zone's managed page count. From PAGESEED_KINDS where the file has it, else
 * from PAGESEED (classes 0..7, managed REC_MANAGED_UNKNOWN). */
int recr__seed(const struct recr *r, uint32_t zone, uint64_t *start_pfn, uint64_t *spanned,
	       uint64_t *managed, int (*fn)(void *ctx, unsigned int cls, uint64_t pages),
	       void *ctx);

#endif
