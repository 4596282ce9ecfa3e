/* udp_reply DEST PORT SRC pktinfo|bound: one UDP datagram to DEST PORT from the
 * source SRC, as a UDP server replies from a configured address: given in
 * IP_PKTINFO / IPV6_PKTINFO with sendmsg() (pktinfo), or bound first and sent with
 * sendto() (bound).  Prints "sent" and exits 0; a failed call is said on stderr,
 * exit 1. */
#include "common.h"

#include <netinet/in.h>
#include <stdlib.h>

/* sendmsg() with the source @src in a PKTINFO control message. */
static int send_pktinfo(int fd, const struct sockaddr_storage *dst, socklen_t dlen,
			const struct sockaddr_storage *src, char **argv)
{
	union { char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))]; struct cmsghdr align; } u;
	struct iovec iov = { .iov_base = "reply", .iov_len = 5 };
	struct msghdr msg = { .msg_name = (void *)dst, .msg_namelen = dlen, .msg_iov = &iov,
			      .msg_iovlen = 1, .msg_control = u.buf };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	msg.msg_controllen = dst->ss_family == AF_INET6 ?
		CMSG_SPACE(sizeof(struct in6_pktinfo)) : CMSG_SPACE(sizeof(struct in_pktinfo));
	cm = CMSG_FIRSTHDR(&msg);
	if (dst->ss_family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = ((struct sockaddr_in6 *)src)->sin6_addr };

		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else {
		struct in_pktinfo pi = { .ipi_spec_dst = ((struct sockaddr_in *)src)->sin_addr };

		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	if (sendmsg(fd, &msg, 0) < 0)
		return fail("sendmsg", argv[1], argv[2]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	int fd, rc;

	if (argc != 5 || (strcmp(argv[4], "pktinfo") && strcmp(argv[4], "bound"))) {
		fprintf(stderr, "usage: udp_reply DEST PORT SRC pktinfo|bound\n");
		return 2;
	}
	if (resolve(argv[1], argv[2], &dst, &dlen) < 0 || resolve(argv[3], "0", &src, &slen) < 0)
		return 1;
	fd = socket(dst.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail("socket", argv[1], argv[2]);
	if (!strcmp(argv[4], "pktinfo")) {
		rc = send_pktinfo(fd, &dst, dlen, &src, argv);
	} else if (bind(fd, (struct sockaddr *)&src, slen) < 0) {
		rc = fail("bind", argv[3], "0");
	} else {
		rc = sendto(fd, "reply", 5, 0, (struct sockaddr *)&dst, dlen) < 0 ?
			fail("sendto", argv[1], argv[2]) : 0;
	}
	if (rc == 0)
		printf("sent\n");
	close(fd);
	return rc;
}
