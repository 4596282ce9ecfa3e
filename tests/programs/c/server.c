/* server ADDR PORT: a blocking TCP server.  Binds ADDR:PORT (IPv4 or IPv6 by the
 * address; "::" also takes IPv4, the kernel's default), listens, says so on stdout,
 * then accepts and closes connections until killed.  A failed call: stderr, exit 1. */
#include "common.h"

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: server ADDR PORT\n");
		return 2;
	}
	if (resolve(argv[1], argv[2], &ss, &len) < 0)
		return 2;
	fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return fail("socket", argv[1], argv[2]);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return fail("bind", argv[1], argv[2]);
	if (listen(fd, 128) < 0)
		return fail("listen", argv[1], argv[2]);
	printf("listening on %s port %s\n", argv[1], argv[2]);
	fflush(stdout);
	for (;;) {
		int conn = accept(fd, NULL, NULL);

		if (conn >= 0)
			close(conn);
	}
}
