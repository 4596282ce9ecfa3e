/* errnames.h: errno number <-> symbolic name ("EADDRNOTAVAIL"). */
#ifndef LIB_ERRNAMES_H
#define LIB_ERRNAMES_H

#include <stddef.h>

/* The symbolic name of errno @num, or NULL when Linux defines no such errno. */
const char *errno_name(int num);

/* Like errno_name(), but an unknown number is written into @buf as decimal
 * digits ("200") and @buf is returned.  Never NULL. */
const char *errno_name_or_number(int num, char *buf, size_t len);

/* The number for symbolic @name ("ECONNREFUSED"), or -1 when unknown. */
int errno_from_name(const char *name);

/* How many names the table holds (for the unit tests). */
size_t errno_table_size(void);

#endif
