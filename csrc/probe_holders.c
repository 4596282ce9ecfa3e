/*
 * probe_holders.c: see probe_holders.h.  /proc/net/{tcp,udp}{,6} give the sockets on
 * a port (address, state, owner uid, inode); /proc/PID/fd links ("socket:[INODE]")
 * give the process that has each one open.
 */
#include "probe_holders.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The holders found so far: @n of at most @max in @h. */
struct holder_list {
	struct port_holder *h;
	size_t n, max;
};

/* An address as /proc/net shows it, normalised to 16 bytes (IPv4 as ::ffff:a.b.c.d)
 * so that sockets of both families can be compared. */
struct norm_addr {
	bool any4, any6;
	unsigned char b[16];
};

/* True for ::ffff:a.b.c.d in the 16 bytes at @b (any alignment). */
static bool bytes_v4mapped(const unsigned char *b)
{
	static const unsigned char prefix[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(b, prefix, sizeof(prefix)) == 0;
}

/* Fills @n from an address of @family at @bytes (any alignment). */
static void norm_from(struct norm_addr *n, int family, const void *bytes)
{
	static const unsigned char zero[16];

	memset(n, 0, sizeof(*n));
	if (family == AF_INET) {
		n->b[10] = n->b[11] = 0xff;
		memcpy(n->b + 12, bytes, 4);
		n->any4 = memcmp(bytes, zero, 4) == 0;
	} else {
		memcpy(n->b, bytes, 16);
		n->any6 = memcmp(bytes, zero, 16) == 0;
		n->any4 = bytes_v4mapped(n->b) && memcmp(n->b + 12, zero, 4) == 0;
	}
}

/* True when a bind to @x and a socket bound to @y compete for the same port:
 * equal addresses or a wildcard covering the other (an IPv6 "::" socket is dual
 * stack by default, so it covers IPv4 too). */
static bool norm_overlap(const struct norm_addr *x, const struct norm_addr *y)
{
	if (x->any6 || y->any6)
		return true;
	if (x->any4)
		return y->any4 || bytes_v4mapped(y->b);
	if (y->any4)
		return bytes_v4mapped(x->b);
	return memcmp(x->b, y->b, 16) == 0;
}

/* The name of /proc/net state @st: TCP states as ss(8) spells them; for UDP,
 * UNCONN (7, bound only) or ESTAB (1, connected). */
static const char *socket_state_name(bool udp, unsigned st)
{
	static const char *const tcp_states[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
	};

	if (udp)
		return st == 7 ? "UNCONN" : st == 1 ? "ESTAB" : "?";
	return st < sizeof(tcp_states) / sizeof(tcp_states[0]) ? tcp_states[st] : "?";
}

/* Decodes a /proc/net address ("0100007F" or 32 hex digits, each 32-bit word in
 * host order) into @out.  Returns 0, or -1 when @hex has the wrong length. */
static int proc_net_addr(const char *hex, bool v6, unsigned char *out)
{
	size_t words = v6 ? 4 : 1;

	if (strlen(hex) != words * 8)
		return -1;
	for (size_t w = 0; w < words; w++) {
		char word[9];
		uint32_t v;

		memcpy(word, hex + w * 8, 8);
		word[8] = '\0';
		v = (uint32_t)strtoul(word, NULL, 16);
		memcpy(out + w * 4, &v, 4);
	}
	return 0;
}

/*
 * Adds to @hl the sockets in /proc/net/@file on @port whose address competes
 * with @target; with @primary only the ones that mean "a server holds it"
 * (LISTEN, or an unconnected UDP socket), without it only the others.  A file
 * that does not exist (no IPv6 here) adds nothing.
 */
static void scan_proc_net(struct holder_list *hl, const char *file,
			  const struct norm_addr *target, unsigned port, bool primary)
{
	bool v6 = file[strlen(file) - 1] == '6';
	bool udp = file[0] == 'u';
	char path[32], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/net/%s", file);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return;
	}
	while (hl->n < hl->max && fgets(line, sizeof(line), f)) {
		struct port_holder *h = &hl->h[hl->n];
		char hex[40];
		unsigned lport, st, uid;
		unsigned long inode;
		unsigned char bytes[16];
		struct norm_addr n;
		struct sockaddr_storage ss;
		bool is_primary;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
		if (sscanf(line, "%*s %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %u %*s %lu", hex,
			   &lport, &st, &uid, &inode) != 5 ||
		    lport != port || proc_net_addr(hex, v6, bytes) < 0)
			continue;
		is_primary = udp ? st == 7 : st == 10;
		norm_from(&n, v6 ? AF_INET6 : AF_INET, bytes);
		if (is_primary != primary || !norm_overlap(target, &n))
			continue;
		memset(h, 0, sizeof(*h));
		memset(&ss, 0, sizeof(ss));
		if (v6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, bytes, 16);
			s6->sin6_port = htons((uint16_t)lport);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, bytes, 4);
			s4->sin_port = htons((uint16_t)lport);
		}
		sockaddr_format((struct sockaddr *)&ss, h->local, sizeof(h->local));
		snprintf(h->proto, sizeof(h->proto), "%s", file);
		snprintf(h->state, sizeof(h->state), "%s", socket_state_name(udp, st));
		h->inode = inode;
		h->uid = uid;
		hl->n++;
	}
	fclose(f);
}

/* Reads /proc/@pid/comm into @buf (newline removed); "" when unreadable. */
static void read_comm(const char *pid, char *buf, size_t len)
{
	char path[300];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Looks for the holders' socket inodes among every process's open files and fills
 * their pid and comm.  Best effort: a /proc/PID/fd this process may not read (not
 * root) leaves the pid at 0. */
static void find_holder_pids(struct holder_list *hl)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;

	if (!proc)
		return;
	while ((e = readdir(proc)) != NULL) {
		char fdpath[300];
		struct dirent *fe;
		DIR *fds;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/%s/fd", e->d_name);
		fds = opendir(fdpath);
		if (!fds)
			continue;
		while ((fe = readdir(fds)) != NULL) {
			char link[600], target[64];
			unsigned long ino;
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s", fdpath, fe->d_name);
			n = readlink(link, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (sscanf(target, "socket:[%lu]", &ino) != 1)
				continue;
			for (size_t i = 0; i < hl->n; i++) {
				struct port_holder *h = &hl->h[i];

				if (h->inode == 0 || h->inode != ino || h->pid != 0)
					continue;
				h->pid = (pid_t)strtol(e->d_name, NULL, 10);
				read_comm(e->d_name, h->comm, sizeof(h->comm));
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

size_t holders_find(const struct parsed_addr *a, unsigned port, bool udp, struct port_holder *out,
		    size_t max)
{
	struct holder_list hl = { .h = out, .n = 0, .max = max };
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
	struct norm_addr target;

	norm_from(&target, a->family,
		  a->family == AF_INET ? (const void *)&s4->sin_addr : (const void *)&s6->sin6_addr);
	for (int primary = 1; primary >= 0; primary--) {
		scan_proc_net(&hl, udp ? "udp" : "tcp", &target, port, primary);
		scan_proc_net(&hl, udp ? "udp6" : "tcp6", &target, port, primary);
	}
	find_holder_pids(&hl);
	return hl.n;
}
