/*
 * probe_record.h: writes a probe record, one JSON line.  The fields are the
 * contract the harness and other tools parse (docs/netprobe.md, "The record"):
 *
 *   {"id":"c1","op":"bind","host":"h2","proto":"tcp","family":"inet",
 *    "addr":"10.0.0.1","port":6677,"options":[],"ok":false,"errno":99,
 *    "error":"EADDRNOTAVAIL","message":"Cannot assign requested address",
 *    "call":"bind","elapsed_us":7}
 *
 * "id" only in batch; "error", "message" and "call" are null when ok.  Connect
 * records add "src", "sport", "local", "peer_host" and "timeout_ms"; the serve
 * record (op "serve") adds "local" and "pid".  Join and mcast-if records (op "join",
 * "mcast-if") add "if", "ifindex" and "src"; send records those and "sport",
 * "pktinfo" and "local".  A retrying case (retry=) ends with "start_ms", "tries"
 * and "ok_ms" (record_tries()).
 */
#ifndef PROBE_RECORD_H
#define PROBE_RECORD_H

#include <stdio.h>

#include "probe_case.h"
#include "lib/json.h"

/* A record line is at most this long (a record holds a few hundred bytes). */
#define RECORD_MAX 4096
/* and one string value in it at most this long, in JSON bytes. */
#define RECORD_STR_MAX 1024

/*
 * Starts record @j in @buf of @size bytes (RECORD_MAX is enough) with the members
 * every record of case @c has, up to "elapsed_us"; @op overrides the operation's
 * name ("serve") when not NULL.  The caller may add members and ends the line
 * with json_end().
 */
void record_build(struct json_out *j, char *buf, size_t size, const char *op,
		  const char *host, const struct probe_case *c, const struct probe_result *r);

/* Adds "options": @c's options that differ from the defaults, as plan words. */
void record_options(struct json_out *j, const struct probe_case *c);

/* Adds the members of @c's operation after "elapsed_us" (connect: "src" ...
 * "timeout_ms"; join, mcast-if, send: "if" ...), as record_format() does. */
void record_add_op_members(struct json_out *j, const struct probe_case *c,
			   const struct probe_result *r);

/*
 * Formats the full record of @c / @r (connect members included) into @buf of
 * @size bytes.  Returns the length of the line ('\n' included, NUL after it).
 */
size_t record_format(char *buf, size_t size, const char *host, const struct probe_case *c,
		     const struct probe_result *r);

/* The record word of @a ("greeting", "eof", ...), NULL for AFTER_UNKNOWN.  Here,
 * with the record it names, so that whatever writes records (netprobe, the plan
 * fuzzers) links without the connect engine. */
const char *after_name(enum probe_after a);

/* Adds a retrying case's members (probe_retry.h) to record @j: "start_ms" (the
 * wall clock of the first try, ms), "tries" ([ms since the first try, errno] each)
 * and "ok_ms" (when the try that succeeded ended; null: none did).  Nothing when
 * @r has no tries (no retry=). */
void record_tries(struct json_out *j, const struct probe_result *r);

/* Writes the full record of @c / @r to @out as one flushed line.  Returns 0, or -1
 * with errno when @out could not be written. */
int record_write(FILE *out, const char *host, const struct probe_case *c,
		 const struct probe_result *r);

#endif
