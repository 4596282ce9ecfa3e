/*
 * probe_cmd_connect.c: `netprobe connect`, one connect case through the connect
 * engine (probe_connect.h), one record; with --retry-for, tried again until it
 * connects or its time is up (probe_retry.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "probe_cli.h"
#include "probe_cmd.h"
#include "probe_connect.h"
#include "probe_record.h"
#include "probe_resolve.h"
#include "probe_retry.h"

/* A connect_emit_fn: writes the record of @c / @r to stdout as one flushed line.
 * Returns 0, or -1 with errno after setting the bool @arg (the write failed). */
static int write_record(const struct probe_case *c, const struct probe_result *r, void *arg)
{
	if (record_write(stdout, probe_host(), c, r) < 0) {
		*(bool *)arg = true;
		return -1;
	}
	return 0;
}

/* Runs connect case @c, whose ADDR is a name, and writes its record to stdout.
 * Returns the exit status, after saying on stderr what failed. */
static int connect_name(const struct probe_case *c)
{
	struct probe_result r;
	struct probe_case at;
	struct name_outcome o;
	char line[RECORD_MAX];
	size_t n;

	if (name_connect(c, &o, &at, &r) < 0) {
		probe_warn("connect engine: %s", strerror(errno));
		return EXIT_PROBE_FAILED;
	}
	n = name_record_format(line, sizeof(line), probe_host(), &at, &r, &o);
	if (fwrite(line, 1, n, stdout) != n || fflush(stdout) != 0) {
		probe_warn("writing a record: %s", strerror(errno));
		return EXIT_PROBE_FAILED;
	}
	return EXIT_PROBE_OK;
}

/* `netprobe connect`: @argv from the command's name on; returns the exit status
 * (probe_cmd.h: 0 the probe worked, 1 it could not, 2 bad usage). */
int cmd_connect(int argc, char **argv)
{
	struct cli cli;
	struct probe_case c;
	bool write_failed = false;

	switch (cli_parse_one_target(argc, argv, FOR_CONNECT, OP_CONNECT, &cli, &c)) {
	case 1: return EXIT_PROBE_OK;	/* --help */
	case -1: return EXIT_USAGE;
	}
	if (c.name.text[0])
		return connect_name(&c);
	if ((c.opts.retry_ms ? retry_connects : connect_run)(&c, 1, 1, write_record,
							     &write_failed) < 0) {
		probe_warn("%s: %s", write_failed ? "writing a record" : "connect engine",
			   strerror(errno));
		return EXIT_PROBE_FAILED;
	}
	return EXIT_PROBE_OK;
}
