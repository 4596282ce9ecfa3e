/*
 * probe_cmd.h: the subcommands of netprobe.  Each takes the arguments after its
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 the probe worked (a failing socket call is a result, not a failure),
 * 1 the probe itself could not work, 2 bad usage (message on stderr, nothing on stdout).
 */
#ifndef PROBE_CMD_H
#define PROBE_CMD_H

#define EXIT_PROBE_OK 0
#define EXIT_PROBE_FAILED 1
#define EXIT_USAGE 2

int cmd_bind(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_addrs(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_mcast_if(int argc, char **argv);
int cmd_send(int argc, char **argv);

/* The label this probe reports as "host": --host, else $NETPROBE_HOST, else the
 * hostname (Mininet hosts share the root's UTS namespace, so the harness passes it). */
const char *probe_host(void);

/* "netprobe: " + message on stderr, the one prefix for human diagnostics. */
void probe_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
