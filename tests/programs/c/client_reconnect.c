/* client_reconnect ADDR PORT SRC: a non-blocking connect() finished with poll() (4 s)
 * and a second connect(), whose answer is the outcome (0 or EISCONN: connected), as
 * libcurl and GLib do.  Exit 0 once connected, else 1 and why on stderr. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage dst;
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t dlen;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: client_reconnect ADDR PORT SRC\n");
		return 2;
	}
	fd = client_socket(argv, &dst, &dlen);
	if (fd < 0)
		return 1;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		return fail("fcntl O_NONBLOCK", argv[1], argv[2]);
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
		if (errno != EINPROGRESS)
			return fail("connect", argv[1], argv[2]);
		pfd.fd = fd;
		switch (poll(&pfd, 1, 4000)) {
		case -1:
			return fail("poll", argv[1], argv[2]);
		case 0:
			errno = ETIMEDOUT;
			return fail("connect", argv[1], argv[2]);
		}
		/* Any answer but 0 or EISCONN is a failure, EALREADY too (Ruby's
		 * Socket.tcp does the same): poll() can say POLLERR while the kernel
		 * still retries the SYN, and then only SO_ERROR knows why. */
		if (connect(fd, (struct sockaddr *)&dst, dlen) < 0 && errno != EISCONN)
			return fail("connect", argv[1], argv[2]);
	}
	printf("connected to %s port %s\n", argv[1], argv[2]);
	close(fd);
	return 0;
}
