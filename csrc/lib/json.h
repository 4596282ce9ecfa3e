/*
 * json.h: the one JSON writer of netprobe's records, `addrs --json`,
 * `diagnose --json` and the tracer (csrc/trace/).
 *
 * It writes one object, on one line, into a buffer the caller supplies (pointer and
 * size: a stack array for a record, a grown heap buffer for a diagnosis) and never
 * allocates, takes no lock and touches no stream, so the tracer can use it inside
 * any thread of a traced program.  Values are strings, integers, booleans, null,
 * JSON text built elsewhere (json_raw), and nested arrays and objects.
 *
 * Whatever it is given, the result is valid JSON that a strict decoder (Python's
 * json.loads on the bytes decoded as UTF-8) accepts, on one line:
 * - strings are escaped: '"', '\\', control bytes and DEL as \n \r \t \u00XX; every
 *   byte that is not part of a well-formed UTF-8 character (a stray continuation
 *   byte, a cut sequence, an overlong form, a surrogate, above U+10FFFF; see
 *   text.h) becomes \ufffd, so an odd --host, a %scope or a dev= name from
 *   the command line, or a program name in the tracer, cannot break a record;
 * - a string value longer than the writer's string cap (@str_max of json_begin(),
 *   in bytes of JSON text) is shortened at a character boundary;
 * - a member that does not fit in the buffer is left out whole (an object member of
 *   an array or object with everything in it), and the record then ends with
 *   "cut":true.  The room for the closing brackets, that marker and the newline is
 *   kept aside from the start, so closing never fails.
 */
#ifndef LIB_JSON_H
#define LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The smallest buffer json_begin() accepts: room for {"cut":true}\n and its NUL. */
#define JSON_OUT_MIN 32
/* How deep arrays and objects may nest inside the record (the record is level 0). */
#define JSON_DEPTH_MAX 4

struct json_level {
	char close;	/* ']' or '}' */
	bool first;	/* no member written at this level yet */
	bool cut;	/* a member of this level was left out */
	bool dead;	/* the container itself did not fit: its members are dropped */
	size_t start;	/* where its member began, to take it back whole */
	bool parent_first;	/* the enclosing level's `first` before it began */
};

struct json_out {
	char *buf;		/* the caller's buffer */
	size_t size;		/* its size; 0 when it was too small to use */
	size_t len;		/* bytes written so far (buf[len] is not kept NUL) */
	size_t str_max;		/* cap of one string value in JSON bytes, 0: none */
	bool cut;		/* some member was left out */
	int depth;		/* open levels, the record included */
	int too_deep;		/* opened beyond JSON_DEPTH_MAX, not yet closed */
	struct json_level level[JSON_DEPTH_MAX + 1];
};

/*
 * Starts a record (the opening '{') in @buf of @size bytes, which the caller owns
 * and keeps until json_end().  A @size below JSON_OUT_MIN makes every member a
 * no-op and json_end() return 0.  @str_max caps each string value (see above).
 */
void json_begin(struct json_out *j, char *buf, size_t size, size_t str_max);

/* Members.  @key names the member inside an object; inside an array it must be
 * NULL (an element).  Each is written whole or left out (j->cut). */
void json_str(struct json_out *j, const char *key, const char *val);	/* NULL -> null */
void json_int(struct json_out *j, const char *key, int64_t val);
void json_bool(struct json_out *j, const char *key, bool val);
void json_null(struct json_out *j, const char *key);
/* A member whose value is already valid JSON text (the caller vouches for it). */
void json_raw(struct json_out *j, const char *key, const char *json);

/* Opens an array / object as member @key (NULL inside an array); beyond
 * JSON_DEPTH_MAX levels the container is left out.  Each open needs a
 * json_close(). */
void json_open_array(struct json_out *j, const char *key);
void json_open_object(struct json_out *j, const char *key);
/* Closes the innermost open array or object.  An object that lost a member is
 * taken back whole; an array keeps the elements that fitted. */
void json_close(struct json_out *j);

/*
 * Closes what is still open, adds "cut":true when something was left out, then
 * '}' and '\n', and a NUL after them.  Returns the length of the line (without
 * the NUL), ready for one write().
 */
size_t json_end(struct json_out *j);

/*
 * Writes @s as a JSON string literal (quotes included, escaped as above) into
 * @out of size @len, NUL-terminated, cut at a character boundary to fit.  Returns
 * the number of bytes written without the NUL; 0 (nothing written) when @len < 3.
 */
size_t json_quote(char *out, size_t len, const char *s);

#endif
