/* json_valid.c: see json_valid.h.  A recursive descent over the JSON grammar. */
#include "json_valid.h"

#include <string.h>

#include "lib/text.h"

static bool value(const char **p);

/* Skips one JSON string at *@p; false when it is not a valid one. */
static bool string(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		size_t n;

		if (*s < 0x20)	/* the NUL too: the string never ended */
			return false;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!s[i] || !strchr("0123456789abcdefABCDEF", s[i]))
						return false;
				s += 5;
				continue;
			}
			if (!*s || !strchr("\"\\/bfnrt", *s))
				return false;
			s++;
			continue;
		}
		n = utf8_char_len(s);
		if (n == 0)
			return false;
		s += n;
	}
	*p = (const char *)s + 1;
	return true;
}

/* Skips the members of an array (@close ']') or object ('}') at *@p, whose opener
 * is already skipped. */
static bool members(const char **p, char close)
{
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		if (close == '}' && (!string(p) || *(*p)++ != ':'))
			return false;
		if (!value(p))
			return false;
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

/* Skips one JSON value at *@p. */
static bool value(const char **p)
{
	static const char *const words[] = { "true", "false", "null" };
	const char *s = *p;

	if (*s == '"')
		return string(p);
	if (*s == '[' || *s == '{') {
		(*p)++;
		return members(p, *s == '[' ? ']' : '}');
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strncmp(s, words[i], strlen(words[i])) == 0) {
			*p = s + strlen(words[i]);
			return true;
		}
	}
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	*p = s;
	return true;
}

bool json_valid_object_line(const char *s)
{
	if (*s != '{' || !value(&s))
		return false;
	if (*s == '\n')
		s++;
	return *s == '\0';
}

bool json_valid_string(const char *s, size_t n)
{
	const char *p = s;

	return string(&p) && (size_t)(p - s) == n && *p == '\0';
}
