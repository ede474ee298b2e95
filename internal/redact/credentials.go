package redact

import (
	"slices"
	"strings"
)

// A credential is a value that the text's own structure says is a
// password, whatever its letters:
//
//   - the password of URL userinfo, scheme://user:PASSWORD@host. As in
//     libpq, userinfo ends at an '@' before the first '/' (or space, which
//     no valid URL holds); the password runs from the first ':' to the last
//     such '@' (a raw '@' in a password is malformed, and masking to the
//     last one keeps all of it);
//   - the value of a key/value setting whose key ends in "password"
//     (password, sslpassword, PGPASSWORD, ...; percent-encoded keys
//     decoded): in a URL query (after '?' or '&') up to the next '&' or
//     space; elsewhere as libpq reads keyword/value strings, in single
//     quotes with backslash escapes or bare up to unescaped white space
//     (an unterminated quote runs to the end of the text).
//
// Everything else is left as it is.

// span is a byte range [start, end) of a text.
type span struct{ start, end int }

// maskCredentials returns s with the value of every credential replaced by
// Mask; s itself when it holds none.
func maskCredentials(s string) string {
	spans := append(userinfoPasswords(s), keywordPasswords(s)...)
	if len(spans) == 0 {
		return s
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(s))
	done := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end) // overlapping or adjacent: one mask
		}
		b.WriteString(s[done:start])
		b.WriteString(Mask)
		done = end
	}
	b.WriteString(s[done:])
	return b.String()
}

// userinfoPasswords finds the passwords of URL userinfo.
func userinfoPasswords(s string) []span {
	var out []span
	for i := 0; ; {
		j := strings.Index(s[i:], "://")
		if j < 0 {
			return out
		}
		j += i
		i = j + 3
		if j == 0 || !isSchemeByte(s[j-1]) {
			continue
		}
		rest := s[i:]
		end := strings.IndexAny(rest, "/ ")
		if end < 0 {
			end = len(rest)
		}
		at := strings.LastIndexByte(rest[:end], '@')
		if at < 0 {
			continue
		}
		colon := strings.IndexByte(rest[:at], ':')
		if colon < 0 || colon+1 == at {
			continue // a user without a password
		}
		out = append(out, span{i + colon + 1, i + at})
	}
}

// keywordPasswords finds the values of settings whose key ends in
// "password".
func keywordPasswords(s string) []span {
	return settingValues(s, func(key string) bool { return strings.HasSuffix(strings.ToLower(key), "password") })
}

// settingValues finds the values of the settings of s, keyword/value or
// URL query, whose (percent-decoded) key match accepts.
func settingValues(s string, match func(key string) bool) []span {
	var out []span
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		keyEnd := i
		for keyEnd > 0 && isSpace(s[keyEnd-1]) {
			keyEnd--
		}
		keyStart := keyEnd
		for keyStart > 0 && isKeyByte(s[keyStart-1]) {
			keyStart--
		}
		if keyStart == keyEnd || !match(percentDecode(s[keyStart:keyEnd])) {
			continue
		}
		var v span
		if keyStart > 0 && (s[keyStart-1] == '?' || s[keyStart-1] == '&') && keyEnd == i {
			v = queryValue(s, i+1)
		} else {
			v = keywordValue(s, i+1)
		}
		if v.end > v.start {
			out = append(out, v)
		}
		i = max(i, v.end-1) // a '=' inside the value is no key
	}
	return out
}

// queryValue is the value of a URL query parameter starting at from.
func queryValue(s string, from int) span {
	end := from
	for end < len(s) && s[end] != '&' && s[end] != ' ' {
		end++
	}
	return span{from, end}
}

// keywordValue is the value of a keyword/value setting whose '=' ends
// right before from, read as libpq reads it; for a quoted value, what is
// between the quotes.
func keywordValue(s string, from int) span {
	for from < len(s) && isSpace(s[from]) {
		from++
	}
	if from < len(s) && s[from] == '\'' {
		end := from + 1
		for end < len(s) && s[end] != '\'' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		return span{from + 1, min(end, len(s))}
	}
	end := from
	for end < len(s) && !isSpace(s[end]) {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	return span{from, min(end, len(s))}
}

// percentDecode decodes every valid %XX of s and leaves the rest as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isSchemeByte reports whether c may end a URL scheme.
func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// isKeyByte reports whether c may be part of a setting's key: letters,
// digits, '_', '-', '.' and '%' (a percent-encoded key).
func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '%'
}

// isSpace reports whether c is white space as libpq reads keyword/value
// strings: it separates settings and ends a bare value.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
