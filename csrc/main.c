/*
 * netprobe: a bind/connect (and join, multicast interface, send) probe for
 * emulated networks.
 *
 *   netprobe [--host NAME] COMMAND [ARGS]
 *
 * Every socket outcome is one JSON line on stdout; diagnostics go to stderr.  See
 * docs/netprobe.md for the commands and the record format.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_cmd.h"
#include "lib/text.h"

static char host_label[64];

const char *probe_host(void)
{
	return host_label;
}

/*
 * Messages echo what the user typed, which may hold control bytes (a newline, an
 * escape sequence) or bytes that are not UTF-8: each is written as \xNN
 * (lib/text.h), so a message stays one line and cannot repaint the terminal.
 */
void probe_warn(const char *fmt, ...)
{
	char msg[1024], safe[4 * sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	text_escape(safe, sizeof(safe), msg);
	fprintf(stderr, "netprobe: %s\n", safe);
}

/* The top-level usage, on @f. */
static void usage(FILE *f)
{
	fputs("usage: netprobe [--host NAME] COMMAND [ARGS]\n"
	      "\n"
	      "  bind [OPTIONS] ADDR PORT [ADDR PORT ...]   bind (and listen, TCP) on each target\n"
	      "  connect [OPTIONS] ADDR PORT                connect, say who answered\n"
	      "  serve [OPTIONS] ADDR PORT                  listen and answer with this host's name\n"
	      "  join [OPTIONS] GROUP [PORT]                join a multicast group (--if: which interface)\n"
	      "  mcast-if [OPTIONS] GROUP [PORT]            choose the interface multicast leaves by\n"
	      "  send [OPTIONS] ADDR PORT                   send one UDP datagram (--src, --pktinfo)\n"
	      "  batch [PLAN]                               run a plan (file or stdin), one record a case\n"
	      "  addrs [--json]                             this namespace's addresses and their flags\n"
	      "  diagnose [--json] [--udp] ADDR [PORT]      why a bind (--join, --mcast-if, --send) here\n"
	      "                                             fails, and what fixes it\n"
	      "\n"
	      "`netprobe COMMAND --help` shows the options of a command.\n"
	      "Exit status: 0 the probe worked (a failed socket call is a result), 1 the probe\n"
	      "could not work, 2 bad usage.\n",
	      f);
}

/* Sets the label records carry as "host" (cut to 63 bytes). */
static void set_host(const char *name)
{
	snprintf(host_label, sizeof(host_label), "%s", name);
}

/* Reads the options before the command (--host, --help), then runs the command,
 * whose return value is the exit status (probe_cmd.h). */
int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {
		{ "bind", cmd_bind },	    { "connect", cmd_connect }, { "serve", cmd_serve },
		{ "batch", cmd_batch },	    { "addrs", cmd_addrs },	{ "diagnose", cmd_diagnose },
		{ "join", cmd_join },	    { "mcast-if", cmd_mcast_if }, { "send", cmd_send },
	};
	const char *env = getenv("NETPROBE_HOST");
	int i = 1;

	/* A reader of stdout that went away is an error to report (EPIPE: "writing a
	 * record: Broken pipe", exit 1), not a signal to die of. */
	signal(SIGPIPE, SIG_IGN);

	if (env && *env) {
		set_host(env);
	} else if (gethostname(host_label, sizeof(host_label)) < 0) {
		set_host("unknown");
	}
	host_label[sizeof(host_label) - 1] = '\0';

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--host") == 0 && i + 1 < argc && argv[i + 1][0]) {
			set_host(argv[i + 1]);
			i += 2;
		} else if (strncmp(argv[i], "--host=", 7) == 0 && argv[i][7]) {
			set_host(argv[i] + 7);
			i++;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return EXIT_PROBE_OK;
		} else {
			probe_warn("unknown option '%s' before the command", argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (strcmp(argv[i], commands[c].name) == 0)
			return commands[c].run(argc - i, argv + i);
	probe_warn("unknown command '%s'", argv[i]);
	usage(stderr);
	return EXIT_USAGE;
}
