/* probe_record.c: see probe_record.h. */
#include "probe_record.h"

#include <string.h>

#include "lib/errnames.h"
#include "probe_plan.h"

const char *after_name(enum probe_after a)
{
	switch (a) {
	case AFTER_GREETING:
		return "greeting";
	case AFTER_DATA:
		return "data";
	case AFTER_EOF:
		return "eof";
	case AFTER_RESET:
		return "reset";
	case AFTER_TIMEOUT:
		return "timeout";
	case AFTER_ERROR:
		return "error";
	case AFTER_UNKNOWN:
		break;
	}
	return NULL;
}

/* Adds the plan words "retry=S" (seconds, as few decimals as it takes) and
 * "every=MS" to the open "options" array. */
static void retry_words(struct json_out *j, const struct probe_opts *o)
{
	char word[40];
	int n = snprintf(word, sizeof(word), "retry=%u.%03u", o->retry_ms / 1000,
			 o->retry_ms % 1000);

	while (n > 0 && word[n - 1] == '0')
		word[--n] = '\0';
	if (n > 0 && word[n - 1] == '.')
		word[--n] = '\0';
	json_str(j, NULL, word);
	snprintf(word, sizeof(word), "every=%u", o->every_ms);
	json_str(j, NULL, word);
}

void record_tries(struct json_out *j, const struct probe_result *r)
{
	const struct probe_tries *t = r->tries;

	if (!t)
		return;
	json_int(j, "start_ms", t->start_ms);
	json_open_array(j, "tries");
	for (unsigned i = 0; i < t->n; i++) {
		json_open_array(j, NULL);
		json_int(j, NULL, t->t[i].t_ms);
		json_int(j, NULL, t->t[i].err);
		json_close(j);
	}
	json_close(j);
	if (t->ok_ms >= 0)
		json_int(j, "ok_ms", t->ok_ms);
	else
		json_null(j, "ok_ms");
}

/* Adds "options": the case's options that differ from the defaults, as plan words
 * (so a record can be turned back into its plan line). */
static void options_json(struct json_out *j, const struct probe_case *c)
{
	const struct probe_opts *o = &c->opts;
	char word[IF_NAMESIZE + 8];

	json_open_array(j, "options");
	if (o->reuseaddr)
		json_str(j, NULL, "reuseaddr");
	if (o->reuseport)
		json_str(j, NULL, "reuseport");
	if (o->freebind)
		json_str(j, NULL, "freebind");
	if (o->bind_no_port)
		json_str(j, NULL, "bindnoport");
	if (o->v6only >= 0)
		json_str(j, NULL, o->v6only ? "v6only=1" : "v6only=0");
	if (o->dev[0]) {
		snprintf(word, sizeof(word), "dev=%s", o->dev);
		json_str(j, NULL, word);
	}
	if (o->hold)
		json_str(j, NULL, "hold");
	if (c->op == OP_BIND && !o->listen && c->proto == PROTO_TCP)
		json_str(j, NULL, "nolisten");
	if (c->op == OP_CONNECT && !o->greet)
		json_str(j, NULL, "nogreet");
	if (c->addr.mapped)
		json_str(j, NULL, "family=6");
	if (o->retry_ms)
		retry_words(j, o);
	if (o->delay_ms) {
		snprintf(word, sizeof(word), "delay=%u", o->delay_ms);
		json_str(j, NULL, word);
	}
	json_close(j);
}

void record_options(struct json_out *j, const struct probe_case *c)
{
	options_json(j, c);
}

void record_build(struct json_out *j, char *buf, size_t size, const char *op,
		  const char *host, const struct probe_case *c, const struct probe_result *r)
{
	char num[16];

	json_begin(j, buf, size, RECORD_STR_MAX);
	if (c->id[0])
		json_str(j, "id", c->id);
	json_str(j, "op", op ? op : plan_op_name(c->op));
	json_str(j, "host", host);
	json_str(j, "proto", c->proto == PROTO_TCP ? "tcp" : "udp");
	json_str(j, "family", c->addr.family == AF_INET6 ? "inet6" : "inet");
	json_str(j, "addr", c->addr.text);
	json_int(j, "port", c->port);
	options_json(j, c);
	json_bool(j, "ok", r->err == 0);
	json_int(j, "errno", r->err);
	if (r->err) {
		json_str(j, "error", errno_name_or_number(r->err, num, sizeof(num)));
		json_str(j, "message", strerror(r->err));
		json_str(j, "call", r->call);
	} else {
		json_null(j, "error");
		json_null(j, "message");
		json_null(j, "call");
	}
	json_int(j, "elapsed_us", r->elapsed_us);
}

/* Adds the members of a join, mcast-if or send: "if" (as given) and "ifindex" (the
 * index used, null when none was), "src" (bound first), and for a send "sport",
 * "pktinfo" and "local" (the address and port the kernel used). */
static void udp_call_json(struct json_out *j, const struct probe_case *c,
			  const struct probe_result *r)
{
	const struct probe_opts *o = &c->opts;

	json_str(j, "if", o->iface.text[0] ? o->iface.text : NULL);
	if (r->ifindex)
		json_int(j, "ifindex", r->ifindex);
	else
		json_null(j, "ifindex");
	json_str(j, "src", o->has_src ? o->src.text : NULL);
	if (c->op != OP_SEND)
		return;
	json_int(j, "sport", o->sport);
	json_str(j, "pktinfo", o->has_pktinfo ? o->pktinfo.text : NULL);
	json_str(j, "local", r->local[0] ? r->local : NULL);
}

void record_add_op_members(struct json_out *j, const struct probe_case *c,
			   const struct probe_result *r)
{
	if (c->op >= OP_JOIN)
		udp_call_json(j, c, r);
	if (c->op == OP_CONNECT) {
		json_str(j, "src", c->opts.has_src ? c->opts.src.text : NULL);
		json_int(j, "sport", c->opts.sport);
		json_str(j, "local", r->local[0] ? r->local : NULL);
		json_str(j, "peer_host", r->peer_host[0] ? r->peer_host : NULL);
		json_str(j, "after", after_name(r->after));
		json_int(j, "timeout_ms", c->opts.timeout_ms);
	}
}

size_t record_format(char *buf, size_t size, const char *host, const struct probe_case *c,
		     const struct probe_result *r)
{
	struct json_out j;

	record_build(&j, buf, size, NULL, host, c, r);
	record_add_op_members(&j, c, r);
	record_tries(&j, r);
	return json_end(&j);
}

int record_write(FILE *out, const char *host, const struct probe_case *c,
		 const struct probe_result *r)
{
	char buf[RECORD_MAX];
	size_t n = record_format(buf, sizeof(buf), host, c, r);

	if (fwrite(buf, 1, n, out) != n || fflush(out) != 0)
		return -1;
	return 0;
}
