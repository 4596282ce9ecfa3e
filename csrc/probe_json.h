/*
 * probe_json.h: a small JSON object writer for one-line records.
 *
 * Records are flat objects, at most a few hundred bytes; the writer builds one in a
 * fixed buffer and never allocates.  A string value longer than 1 KiB is shortened
 * (still a valid string); a member that does not fit in the buffer is left out
 * whole and j->cut is set, so the record always stays valid JSON.
 */
#ifndef PROBE_JSON_H
#define PROBE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JBUF_SIZE 4096

struct jbuf {
	char buf[JBUF_SIZE];
	size_t len;
	bool first;	/* no member written yet */
	bool cut;	/* something did not fit */
};

void jbuf_begin(struct jbuf *j);
void jbuf_str(struct jbuf *j, const char *key, const char *val);	/* NULL -> null */
void jbuf_int(struct jbuf *j, const char *key, int64_t val);
void jbuf_bool(struct jbuf *j, const char *key, bool val);
void jbuf_null(struct jbuf *j, const char *key);
/* A member whose value is already valid JSON text (an array built elsewhere). */
void jbuf_raw(struct jbuf *j, const char *key, const char *json);
/* Closes the object and appends '\n'.  Returns the text (NUL-terminated). */
const char *jbuf_finish(struct jbuf *j);

/* Writes @s as a JSON string literal (quotes included) into @out of size @len.
 * Returns the number of bytes written (without the NUL), cut to fit. */
size_t json_quote(char *out, size_t len, const char *s);

/* Writes the finished record to @f as one line and flushes it: stdout is a
 * machine channel read line by line by the harness.  Returns 0 or -1 (errno). */
int jbuf_emit(struct jbuf *j, FILE *f);

/* Like jbuf_emit() but leaves the line in @f's buffer: for bursts of records
 * whose writer flushes at the end of the burst. */
int jbuf_put(struct jbuf *j, FILE *f);

#endif
