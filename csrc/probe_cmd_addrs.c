/*
 * probe_cmd_addrs.c: `netprobe addrs`, this namespace's addresses and their flags
 * (probe_ifaddrs.h reads them from rtnetlink), as a table or as JSON lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "probe_cmd.h"
#include "probe_ifaddrs.h"
#include "lib/json.h"
#include "probe_record.h"
#include "probe_opt.h"

struct addrs_opts {
	bool json;
	int family;	/* AF_UNSPEC: both */
};

/* The usage of `netprobe addrs` on @f (@which: unused, see probe_opt.h). */
static void addrs_usage(FILE *f, unsigned which)
{
	(void)which;
	fputs("usage: netprobe addrs [--json] [-4|-6]\n"
	      "  This namespace's addresses from rtnetlink: interface, family, prefix, scope,\n"
	      "  flags (tentative, dadfailed, deprecated, permanent, ...) and link state.\n"
	      "  --json   one JSON line per address instead of a table\n"
	      "  -4, -6   only IPv4 or only IPv6 addresses\n",
	      f);
}

/* Writes @a as one JSON line on stdout.  Returns 0 or -1 (errno). */
static int print_json(const struct local_addr *a)
{
	char buf[RECORD_MAX];
	struct json_out j;
	size_t n;

	json_begin(&j, buf, sizeof(buf), RECORD_STR_MAX);
	json_str(&j, "host", probe_host());
	json_str(&j, "ifname", a->ifname[0] ? a->ifname : NULL);
	json_int(&j, "ifindex", a->ifindex);
	addr_json_members(&j, a);
	json_bool(&j, "lower_up", (a->link_flags & IFF_LOWER_UP) != 0);
	json_str(&j, "operstate", addr_operstate_name(a->operstate));
	n = json_end(&j);
	return fwrite(buf, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : -1;
}

/* Writes @a as one row of the human table, its address column @w wide.
 * Returns 0 or -1 (errno). */
static int print_row(const struct local_addr *a, int w)
{
	char flags[512], scope[16], addr[INET6_ADDRSTRLEN + 5], link[40];

	addr_flags_text(a, flags, sizeof(flags));
	snprintf(addr, sizeof(addr), "%s/%u", a->text, a->prefixlen);
	snprintf(link, sizeof(link), "%s%s", (a->link_flags & IFF_UP) ? "up" : "down",
		 (a->link_flags & IFF_LOWER_UP) ? ",lower_up" : "");
	if (printf("%-15s %5d  %-6s %-*s %-7s %-12s %-15s %s\n",
		   a->ifname[0] ? a->ifname : "?", a->ifindex,
		   a->family == AF_INET ? "inet" : "inet6", w, addr,
		   addr_scope_name(a->scope, scope, sizeof(scope)), link,
		   addr_operstate_name(a->operstate), flags) < 0)
		return -1;
	return 0;
}

/* `netprobe addrs`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_addrs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct addrs_opts o = { .json = false, .family = AF_UNSPEC };
	struct local_addr *addrs = NULL;
	struct opt_parser p;
	size_t n = 0;
	int c, w, status = EXIT_PROBE_OK;

	opt_init(&p, argc, argv, "addrs", "+46jh", longopts, addrs_usage, 0);
	while ((c = opt_next(&p)) != OPT_END) {
		switch (c) {
		case 'j': o.json = true; break;
		case '4': o.family = AF_INET; break;
		case '6': o.family = AF_INET6; break;
		case OPT_HELP: return EXIT_PROBE_OK;
		default: return EXIT_USAGE;	/* OPT_BAD: said on stderr */
		}
	}
	if (optind < argc) {
		opt_bad(&p, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (addrs_dump(&addrs, &n) < 0) {
		probe_warn("addrs: rtnetlink dump: %s", strerror(errno));
		return EXIT_PROBE_FAILED;
	}
	w = (int)strlen("ADDRESS/PREFIX");
	for (size_t i = 0; i < n; i++) {
		int aw = (int)strlen(addrs[i].text) + 4;	/* "/128" at most */

		w = aw > w ? aw : w;
	}
	if (!o.json && printf("%-15s %5s  %-6s %-*s %-7s %-12s %-15s %s\n", "IFNAME", "INDEX",
			      "FAMILY", w, "ADDRESS/PREFIX", "SCOPE", "LINK", "OPERSTATE",
			      "FLAGS") < 0)
		status = EXIT_PROBE_FAILED;
	for (size_t i = 0; i < n && status == EXIT_PROBE_OK; i++) {
		if (o.family != AF_UNSPEC && addrs[i].family != o.family)
			continue;
		if ((o.json ? print_json(&addrs[i]) : print_row(&addrs[i], w)) < 0)
			status = EXIT_PROBE_FAILED;
	}
	if (fflush(stdout) != 0)
		status = EXIT_PROBE_FAILED;
	if (status != EXIT_PROBE_OK)
		probe_warn("addrs: writing stdout: %s", strerror(errno));
	free(addrs);
	return status;
}
