/* text.c: see text.h. */
#include "text.h"

#include <stdbool.h>

/* True for a UTF-8 continuation byte (10xxxxxx). */
static bool cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

size_t utf8_char_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;	/* the range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return cont(s[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;	/* below: an overlong form */
		else if (c == 0xed)
			hi = 0x9f;	/* above: a surrogate */
		return s[1] >= lo && s[1] <= hi && cont(s[2]) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;	/* below: an overlong form */
		else if (c == 0xf4)
			hi = 0x8f;	/* above: beyond U+10FFFF */
		return s[1] >= lo && s[1] <= hi && cont(s[2]) && cont(s[3]) ? 4 : 0;
	}
	return 0;	/* 0x80-0xc1 (continuation, overlong lead) and 0xf5-0xff */
}

size_t text_escape(char *out, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	if (len == 0)
		return 0;
	while (*p) {
		size_t n = utf8_char_len(p);
		bool control = n == 1 ? *p < 0x20 || *p == 0x7f : n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
		size_t need = n == 0 ? 4 : control ? 4 * n : n;

		if (o + need + 1 > len)
			break;
		if (n == 0 || control) {
			for (size_t i = 0; i < (n ? n : 1); i++) {
				out[o++] = '\\';
				out[o++] = 'x';
				out[o++] = hex[p[i] >> 4];
				out[o++] = hex[p[i] & 15];
			}
			p += n ? n : 1;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			out[o++] = (char)*p++;
	}
	out[o] = '\0';
	return o;
}
