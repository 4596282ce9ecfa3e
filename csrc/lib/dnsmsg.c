/* dnsmsg.c: see dnsmsg.h. */
#include "dnsmsg.h"

#include <string.h>
#include <sys/socket.h>

#define HEADER_LEN 12
#define CLASS_IN 1

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * Reads the name at offset *@off of @buf (@len bytes) into @name (NULL: skip it),
 * dotted; *@off moves past it as it stands in the message (a pointer ends it).
 * Returns 0, or -1 when the name is cut short, too long, has a label over 63 or a
 * pointer that does not go back.
 */
static int read_name(const unsigned char *buf, size_t len, size_t *off, char *name)
{
	size_t at = *off, out = 0, end = 0;
	int jumps = 0;
	unsigned label;

	for (;;) {
		if (at >= len)
			return -1;
		label = buf[at];
		if ((label & 0xc0) == 0xc0) {
			size_t to;

			if (at + 1 >= len || ++jumps > DNS_JUMPS_MAX)
				return -1;
			to = (get16(buf + at) & 0x3fff);
			if (!end)
				end = at + 2;
			if (to >= at)		/* only backwards: no loop */
				return -1;
			at = to;
			continue;
		}
		if (label & 0xc0)		/* 0x40, 0x80: no such label type */
			return -1;
		if (label == 0) {
			if (!end)
				end = at + 1;
			break;
		}
		if (at + 1 + label > len || out + (out ? 1 : 0) + label > DNS_NAME_MAX - 1)
			return -1;
		if (name) {
			if (out)
				name[out] = '.';
			memcpy(name + out + (out ? 1 : 0), buf + at + 1, label);
		}
		out += (out ? 1 : 0) + label;
		at += 1 + label;
	}
	if (name)
		name[out] = '\0';
	*off = end;
	return 0;
}

/* Makes the name printable as the records carry it: a byte outside the DNS name
 * characters becomes '?' (the JSON writer escapes the rest, but a name is text). */
static void tame(char *name)
{
	for (; *name; name++) {
		unsigned char ch = (unsigned char)*name;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			*name = '?';
	}
}

int dns_answer_parse(const unsigned char *buf, size_t len, struct dns_answer *out)
{
	size_t off = HEADER_LEN;
	unsigned qd, an, i;

	memset(out, 0, sizeof(*out));
	if (!buf || len < HEADER_LEN || !(buf[2] & 0x80))	/* QR: a response */
		return -1;
	qd = get16(buf + 4);
	an = get16(buf + 6);
	if (qd != 1)
		return -1;
	out->id = (uint16_t)get16(buf);
	out->truncated = (buf[2] & 0x02) != 0;
	out->rcode = buf[3] & 0x0f;
	if (read_name(buf, len, &off, out->name) < 0 || off + 4 > len)
		goto bad;
	tame(out->name);
	out->qtype = (int)get16(buf + off);
	off += 4;
	for (i = 0; i < an && i < DNS_RECORDS_MAX; i++) {
		unsigned type, class, rdlen;

		if (read_name(buf, len, &off, NULL) < 0 || off + 10 > len)
			break;
		type = get16(buf + off);
		class = get16(buf + off + 2);
		rdlen = get16(buf + off + 8);
		off += 10;
		if (rdlen > len - off)
			break;
		if (class == CLASS_IN && out->n < DNS_ADDRS_MAX &&
		    ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16))) {
			out->addrs[out->n].family = type == DNS_TYPE_A ? AF_INET : AF_INET6;
			memcpy(out->addrs[out->n].bytes, buf + off, rdlen);
			out->n++;
		}
		off += rdlen;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

const char *dns_rcode_name(int rcode)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };

	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	return "RCODE?";
}

const char *dns_type_name(int qtype)
{
	return qtype == DNS_TYPE_A ? "A" : qtype == DNS_TYPE_AAAA ? "AAAA" : NULL;
}
