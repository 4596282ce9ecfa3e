/* probe_name.c: see probe_name.h. */
#include "probe_name.h"

#include <stdio.h>
#include <string.h>

bool name_valid(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n == 0 || n >= NAME_TEXT_MAX)
		return false;
	for (const char *p = s; *p; p++) {
		char ch = *p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_')
			letter = true;
		else if (!((ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return false;
	}
	return letter;
}

int name_set(struct probe_case *c, const char *text, int family, char *err, size_t errlen)
{
	char why[160];

	if (!name_valid(text)) {
		snprintf(err, errlen, "'%.64s' is not a numeric address or a host name", text);
		return -1;
	}
	if (c->op != OP_BIND && c->op != OP_CONNECT) {
		snprintf(err, errlen, "'%.64s': only a bind or a connect takes a name", text);
		return -1;
	}
	memset(&c->name, 0, sizeof(c->name));
	memcpy(c->name.text, text, strlen(text) + 1);
	c->name.family = family;
	c->name.each = c->op == OP_CONNECT;
	if (addr_parse("any", family == AF_INET6 ? AF_INET6 : AF_INET, &c->addr, why,
		       sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	addr_set_port(&c->addr, c->port);
	return 0;
}

void name_take_src_family(struct probe_case *c)
{
	char why[160];

	if (!c->name.text[0] || !c->opts.has_src || c->name.family != AF_UNSPEC)
		return;
	c->name.family = c->opts.src.family;
	if (addr_parse("any", c->name.family, &c->addr, why, sizeof(why)) == 0)
		addr_set_port(&c->addr, c->port);
}
