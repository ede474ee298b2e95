package redact

import "strings"

// urlProblem finds what keeps pgx (whose parser follows libpq's) from
// reading a postgres:// URL, and says it with byte offsets and keyword
// names only; "" when it finds nothing. It walks the URL as pgx does:
// userinfo, the host list, the database, the query.
func urlProblem(dsn string) string {
	if i := strings.IndexByte(dsn, 0); i >= 0 {
		return "a NUL byte " + at(i)
	}
	off := len("postgresql://")
	if !strings.HasPrefix(dsn, "postgresql://") {
		off = len("postgres://")
	}
	p := dsn[off:]
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		user, password, hasPassword := strings.Cut(p[:i], ":")
		if why, j := decodeProblem(user); why != "" {
			return "the user name holds " + why + " " + at(off+j)
		}
		if why, _ := decodeProblem(password); hasPassword && why != "" {
			return "the password holds " + why // where would say something of it
		}
		off, p = off+i+1, p[i+1:]
	}

	var hosts, ports segments
	for {
		if peek(p) == '[' {
			end := strings.IndexByte(p, ']')
			switch {
			case end < 0:
				return `an IPv6 address opened by "[" ` + at(off) + " is not closed"
			case end == 1:
				return "an empty IPv6 address " + at(off)
			}
			hosts.add(p[1:end], off+1)
			off, p = off+end+1, p[end+1:]
			if c := peek(p); c != 0 && c != ':' && c != '/' && c != '?' && c != ',' {
				return `a character other than ":" or "/" after an IPv6 address ` + at(off)
			}
		} else {
			i := indexOrEnd(p, ":/?,")
			hosts.add(p[:i], off)
			off, p = off+i, p[i:]
		}
		if peek(p) == ':' {
			i := indexOrEnd(p[1:], "/?,")
			ports.add(p[1:1+i], off+1)
			off, p = off+1+i, p[1+i:]
		}
		if peek(p) != ',' {
			break
		}
		hosts.sep(off)
		ports.sep(off)
		off, p = off+1, p[1:]
	}
	if why := hosts.problem(); why != "" {
		return "the host list holds " + why
	}
	if why := ports.problem(); why != "" {
		return "the port list holds " + why
	}

	if peek(p) == '/' {
		db := p[1 : 1+indexOrEnd(p[1:], "?")]
		if why, j := decodeProblem(db); why != "" {
			return "the database name holds " + why + " " + at(off+1+j)
		}
		off, p = off+1+len(db), p[1+len(db):]
	}
	if peek(p) != '?' {
		return ""
	}
	off, p = off+1, p[1:]
	for p != "" {
		pair, rest, _ := strings.Cut(p, "&")
		rawKey, rawValue, found := strings.Cut(pair, "=")
		key := percentDecode(strings.Trim(rawKey, " "))
		param := "the query parameter " + at(off)
		if keywords[key] {
			param = "the query parameter " + key + " " + at(off)
		}
		if !found {
			return param + ` has no "="`
		}
		if strings.Contains(rawValue, "=") {
			return param + ` holds a second "="`
		}
		if why, j := decodeProblem(rawKey); why != "" {
			return "the key of " + param + " holds " + why + " " + at(off+j)
		}
		why, j := decodeProblem(rawValue)
		switch {
		case why != "" && strings.HasSuffix(strings.ToLower(key), "password"):
			return "the value of " + param + " holds " + why
		case why != "":
			return "the value of " + param + " holds " + why + " " + at(off+len(rawKey)+1+j)
		}
		off, p = off+len(pair)+1, rest
	}
	return ""
}

// keywordProblem finds what keeps pgx (whose reading follows libpq's) from
// reading a keyword/value connection string, and says it with byte
// offsets and keyword names only; "" when it finds nothing.
func keywordProblem(dsn string) string {
	if i := strings.IndexByte(dsn, 0); i >= 0 {
		return "a NUL byte " + at(i)
	}
	// where says where a word without "=" starts: after a password, only
	// that (its offset would tell where the password holds a space).
	where := func(pos int, prev string) string {
		switch {
		case prev == "":
			return at(pos)
		case isPasswordKey(prev):
			return "after the value of " + keyName(prev) + " (a value holding white space must be in single quotes)"
		}
		return at(pos) + ", after the value of " + keyName(prev) + " (a value holding white space must be in single quotes)"
	}
	prev := ""
	for pos := skipSpace(dsn, 0); pos < len(dsn); {
		eq := strings.IndexByte(dsn[pos:], '=')
		if eq < 0 {
			return `text without "=" ` + where(pos, prev)
		}
		key := strings.TrimRight(dsn[pos:pos+eq], " \t\n\v\f\r")
		if strings.IndexFunc(key, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) >= 0 {
			return `a word not followed by "=" ` + where(pos, prev)
		}
		v := skipSpace(dsn, pos+eq+1)
		end := v
		switch {
		case v == len(dsn):
		case dsn[v] != '\'':
			for end < len(dsn) && !isSpace(dsn[end]) {
				if dsn[end] == '\\' {
					end++
				}
				end++
			}
		default:
			for end++; end < len(dsn) && dsn[end] != '\''; end++ {
				if dsn[end] == '\\' {
					end++
				}
			}
			if end >= len(dsn) {
				return "the quoted value of " + keyName(key) + " opened " + at(v) + " is not closed"
			}
			end++
		}
		if key == "" {
			return `"=" without a keyword ` + at(pos+eq)
		}
		prev, pos = key, skipSpace(dsn, min(end, len(dsn)))
	}
	return ""
}

// decodeProblem checks a URL component as pgx (and libpq) decode it: '%'
// and two hex digits, never %00, spaces only around it. It returns what is
// wrong and its index in raw, or "".
func decodeProblem(raw string) (string, int) {
	i := 0
	for i < len(raw) && raw[i] == ' ' {
		i++
	}
	for i < len(raw) && raw[i] != ' ' {
		if raw[i] != '%' {
			i++
			continue
		}
		if i+2 >= len(raw) {
			return "an incomplete percent-encoding", i
		}
		hi, ok1 := unhex(raw[i+1])
		lo, ok2 := unhex(raw[i+2])
		switch {
		case !ok1 || !ok2:
			return "an invalid percent-encoding", i
		case hi == 0 && lo == 0:
			return "a forbidden %00", i
		}
		i += 3
	}
	space := i
	for i < len(raw) && raw[i] == ' ' {
		i++
	}
	if i < len(raw) {
		return "a space (write %20)", space
	}
	return "", 0
}

// segments is the host or port list of a URL joined as pgx joins it
// before decoding, with the offset of each byte in the connection string.
type segments struct {
	text []byte
	offs []int
}

func (s *segments) add(part string, off int) {
	for i := range len(part) {
		s.text = append(s.text, part[i])
		s.offs = append(s.offs, off+i)
	}
}

func (s *segments) sep(off int) {
	s.text = append(s.text, ',')
	s.offs = append(s.offs, off)
}

func (s *segments) problem() string {
	if why, i := decodeProblem(string(s.text)); why != "" {
		return why + " " + at(s.offs[i])
	}
	return ""
}

func peek(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// indexOrEnd is the index of the first of chars in s, or len(s).
func indexOrEnd(s, chars string) int {
	if i := strings.IndexAny(s, chars); i >= 0 {
		return i
	}
	return len(s)
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}
