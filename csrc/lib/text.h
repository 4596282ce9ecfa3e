/*
 * text.h: bytes from the command line, the kernel or a peer, made safe to
 * show: as JSON (json.c) or to a human on a terminal (stderr diagnostics,
 * `diagnose`'s text form).
 *
 * Both need to know where a well-formed UTF-8 character starts and ends; the
 * human form also must not let a control byte through (a newline splits a
 * message, ESC or CSI repaint the terminal).
 */
#ifndef LIB_TEXT_H
#define LIB_TEXT_H

#include <stddef.h>

/*
 * The length (1-4) of the well-formed UTF-8 character at @s, or 0 when the bytes
 * there are not one: a stray continuation byte, a sequence cut short (by the NUL
 * that ends @s, too: it never reads past it), an overlong form, a surrogate
 * (U+D800-U+DFFF) or a code point above U+10FFFF.  An ASCII byte is 1.
 */
size_t utf8_char_len(const unsigned char *s);

/*
 * Copies @s into @out of @len bytes (NUL-terminated, cut before an escape that
 * does not fit) for a human to read: every byte of a control character (C0,
 * DEL, and the C1 range U+0080-U+009F) and every byte that is not part of
 * well-formed UTF-8 is written as \xNN; everything else passes.  Returns the
 * length written.  Nothing is written when @len is 0.
 */
size_t text_escape(char *out, size_t len, const char *s);

#endif
