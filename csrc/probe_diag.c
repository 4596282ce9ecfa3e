/* probe_diag.c: see probe_diag.h. */
#include "probe_diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cause_names[] = {
	[CAUSE_OK] = "ok",
	[CAUSE_INTERFACE_DOWN] = "interface_down",
	[CAUSE_NOT_LOCAL] = "not_local",
	[CAUSE_TENTATIVE] = "tentative",
	[CAUSE_DADFAILED] = "dadfailed",
	[CAUSE_PORT_IN_USE] = "port_in_use",
	[CAUSE_PRIVILEGED_PORT] = "privileged_port",
	[CAUSE_LINKLOCAL_NO_SCOPE] = "linklocal_no_scope",
	[CAUSE_UNKNOWN_SCOPE] = "unknown_scope",
	[CAUSE_UNKNOWN_INTERFACE] = "unknown_interface",
	[CAUSE_NO_ROUTE] = "no_route",
	[CAUSE_ALREADY_JOINED] = "already_joined",
	[CAUSE_NOT_MULTICAST] = "not_multicast",
	[CAUSE_OTHER] = "other",
};

const char *diag_cause_name(enum diag_cause cause)
{
	if ((unsigned)cause < sizeof(cause_names) / sizeof(cause_names[0]))
		return cause_names[cause];
	return "other";
}

void diagnosis_free(struct diagnosis *d)
{
	free(d->addrs);
	d->addrs = NULL;
	d->naddrs = 0;
}

void diag_why(struct diagnosis *d, const char *fmt, ...)
{
	size_t o = strlen(d->explanation);
	va_list ap;

	if (o + 1 >= sizeof(d->explanation))
		return;
	va_start(ap, fmt);
	vsnprintf(d->explanation + o, sizeof(d->explanation) - o, fmt, ap);
	va_end(ap);
}

void diag_fix(struct diagnosis *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nfixes >= DIAG_FIXES)
		return;
	va_start(ap, fmt);
	vsnprintf(d->fixes[d->nfixes++], DIAG_FIX_MAX, fmt, ap);
	va_end(ap);
}

long diag_sysctl(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
