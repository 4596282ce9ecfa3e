/* gainames.h: getaddrinfo() codes <-> their EAI_ names. */
#ifndef LIB_GAINAMES_H
#define LIB_GAINAMES_H

/* The EAI_ name of getaddrinfo() code @gai, and its English message in @msg (when
 * @msg is not NULL); "EAI_?" and "Unknown error" for a code it does not know. */
const char *gai_word(int gai, const char **msg);

#endif
