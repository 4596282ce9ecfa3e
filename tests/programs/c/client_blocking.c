/* client_blocking ADDR PORT SRC: a blocking connect() with a 4 s SO_SNDTIMEO, from
 * SRC unless it is a wildcard.  Exit 0 once connected, 1 with the error on stderr. */
#include "common.h"
#include <sys/time.h>

int main(int argc, char **argv)
{
	struct sockaddr_storage dst;
	struct timeval timeout = { .tv_sec = 4 };
	socklen_t dlen;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: client_blocking ADDR PORT SRC\n");
		return 2;
	}
	fd = client_socket(argv, &dst, &dlen);
	if (fd < 0)
		return 1;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0)
		return fail("setsockopt SO_SNDTIMEO", argv[1], argv[2]);
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
		/* Linux: a blocking connect() that outlives SO_SNDTIMEO says EINPROGRESS. */
		if (errno == EINPROGRESS)
			errno = ETIMEDOUT;
		return fail("connect", argv[1], argv[2]);
	}
	printf("connected to %s port %s\n", argv[1], argv[2]);
	close(fd);
	return 0;
}
