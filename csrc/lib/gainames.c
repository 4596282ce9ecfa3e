/*
 * gainames.c: getaddrinfo()'s outcome codes as records name them, for netprobe's
 * name records and the tracers' resolve records alike; without gai_strerror(),
 * which translates and may allocate inside a traced program.
 */
#include "gainames.h"

#include <netdb.h>
#include <stddef.h>

const char *gai_word(int gai, const char **msg)
{
	static const struct {
		int code;
		const char *name, *msg;
	} words[] = {
		{ EAI_BADFLAGS, "EAI_BADFLAGS", "Bad value for ai_flags" },
		{ EAI_NONAME, "EAI_NONAME", "Name or service not known" },
		{ EAI_AGAIN, "EAI_AGAIN", "Temporary failure in name resolution" },
		{ EAI_FAIL, "EAI_FAIL", "Non-recoverable failure in name resolution" },
		{ EAI_NODATA, "EAI_NODATA", "No address associated with hostname" },
		{ EAI_FAMILY, "EAI_FAMILY", "ai_family not supported" },
		{ EAI_SOCKTYPE, "EAI_SOCKTYPE", "ai_socktype not supported" },
		{ EAI_SERVICE, "EAI_SERVICE", "Servname not supported for ai_socktype" },
		{ EAI_ADDRFAMILY, "EAI_ADDRFAMILY", "Address family for hostname not supported" },
		{ EAI_MEMORY, "EAI_MEMORY", "Memory allocation failure" },
		{ EAI_SYSTEM, "EAI_SYSTEM", "System error" },
		{ EAI_OVERFLOW, "EAI_OVERFLOW", "Argument buffer overflow" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (words[i].code == gai) {
			if (msg)
				*msg = words[i].msg;
			return words[i].name;
		}
	if (msg)
		*msg = "Unknown error";
	return "EAI_?";
}
