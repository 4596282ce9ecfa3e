/* probe_record.c: see probe_record.h. */
#include "probe_record.h"

#include <string.h>

#include "probe_errno.h"

/* The options that differ from the defaults, as a JSON array of plan words. */
static void options_json(const struct probe_case *c, char *out, size_t len)
{
	const struct probe_opts *o = &c->opts;
	char word[64], q[80];
	size_t n = 0;

	out[n++] = '[';
	out[n] = '\0';
#define ADD(...)                                                              \
	do {                                                                  \
		snprintf(word, sizeof(word), __VA_ARGS__);                    \
		size_t ql = json_quote(q, sizeof(q), word);                   \
		if (n + ql + 3 < len) {                                       \
			if (n > 1)                                            \
				out[n++] = ',';                               \
			memcpy(out + n, q, ql + 1);                           \
			n += ql;                                              \
		}                                                             \
	} while (0)
	if (o->reuseaddr)
		ADD("reuseaddr");
	if (o->reuseport)
		ADD("reuseport");
	if (o->freebind)
		ADD("freebind");
	if (o->v6only >= 0)
		ADD("v6only=%d", o->v6only);
	if (o->dev[0])
		ADD("dev=%s", o->dev);
	if (o->hold)
		ADD("hold");
	if (c->op == OP_BIND && !o->listen && c->proto == PROTO_TCP)
		ADD("nolisten");
	if (c->op == OP_CONNECT && !o->greet)
		ADD("nogreet");
	if (c->addr.mapped)
		ADD("family=6");
#undef ADD
	out[n++] = ']';
	out[n] = '\0';
}

void record_build(struct jbuf *j, const char *op, const char *host,
		  const struct probe_case *c, const struct probe_result *r)
{
	char opts[512], num[16];

	jbuf_begin(j);
	if (c->id[0])
		jbuf_str(j, "id", c->id);
	jbuf_str(j, "op", op ? op : c->op == OP_BIND ? "bind" : "connect");
	jbuf_str(j, "host", host);
	jbuf_str(j, "proto", c->proto == PROTO_TCP ? "tcp" : "udp");
	jbuf_str(j, "family", c->addr.family == AF_INET6 ? "inet6" : "inet");
	jbuf_str(j, "addr", c->addr.text);
	jbuf_int(j, "port", c->port);
	options_json(c, opts, sizeof(opts));
	jbuf_raw(j, "options", opts);
	jbuf_bool(j, "ok", r->err == 0);
	jbuf_int(j, "errno", r->err);
	if (r->err) {
		jbuf_str(j, "error", errno_name_or_number(r->err, num, sizeof(num)));
		jbuf_str(j, "message", strerror(r->err));
		jbuf_str(j, "call", r->call);
	} else {
		jbuf_null(j, "error");
		jbuf_null(j, "message");
		jbuf_null(j, "call");
	}
	jbuf_int(j, "elapsed_us", r->elapsed_us);
}

static int record_out(FILE *out, const char *host, const struct probe_case *c,
		      const struct probe_result *r, bool flush)
{
	struct jbuf j;

	record_build(&j, NULL, host, c, r);
	if (c->op == OP_CONNECT) {
		jbuf_str(&j, "src", c->opts.has_src ? c->opts.src.text : NULL);
		jbuf_int(&j, "sport", c->opts.sport);
		jbuf_str(&j, "local", r->local[0] ? r->local : NULL);
		jbuf_str(&j, "peer_host", r->peer_host[0] ? r->peer_host : NULL);
		jbuf_int(&j, "timeout_ms", c->opts.timeout_ms);
	}
	return flush ? jbuf_emit(&j, out) : jbuf_put(&j, out);
}

int record_write(FILE *out, const char *host, const struct probe_case *c,
		 const struct probe_result *r)
{
	return record_out(out, host, c, r, true);
}

int record_put(FILE *out, const char *host, const struct probe_case *c,
	       const struct probe_result *r)
{
	return record_out(out, host, c, r, false);
}
