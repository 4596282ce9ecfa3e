/*
 * probe_record.h: writes a probe record, one JSON line (DESIGN.md, "Contracts"):
 *
 *   {"id":"c1","op":"bind","host":"h2","proto":"tcp","family":"inet",
 *    "addr":"10.0.0.1","port":6677,"options":[],"ok":false,"errno":99,
 *    "error":"EADDRNOTAVAIL","message":"Cannot assign requested address",
 *    "call":"bind","elapsed_us":7}
 *
 * Connect records add "src", "sport", "local", "peer_host" and "timeout_ms".
 */
#ifndef PROBE_RECORD_H
#define PROBE_RECORD_H

#include <stdio.h>

#include "probe_case.h"
#include "probe_json.h"

/* Starts @j with the members every record of case @c has, up to "elapsed_us";
 * @op overrides the operation's name ("serve") when not NULL. */
void record_build(struct jbuf *j, const char *op, const char *host,
		  const struct probe_case *c, const struct probe_result *r);

/* Builds the full record of @c / @r and writes it to @out as one flushed line.
 * Returns 0, or -1 when @out could not be written. */
int record_write(FILE *out, const char *host, const struct probe_case *c,
		 const struct probe_result *r);

/* Like record_write() but unflushed: `batch` writes its bind records as a burst
 * (one write() per buffer, not per case) and flushes when the burst ends. */
int record_put(FILE *out, const char *host, const struct probe_case *c,
	       const struct probe_result *r);

#endif
