package redact

import (
	"strings"
)

// ForConnString returns the Redactor of an exporter watching the database
// of a connection string. Its credentials are masked wherever they stand;
// beyond them it knows every password the exporter may come to hold (the
// one pgx parsed, from the string, PGPASSWORD or .pgpass, "" when it did
// not parse; PGPASSWORD; and every reading of the raw string, in case it
// is malformed) and masks those of at least MinAnywhere characters
// anywhere, unless the user, database or host names of the string (or of
// PGUSER, PGDATABASE, PGHOST) hold them.
func ForConnString(dsn, parsedPassword string, getenv func(string) string) *Redactor {
	secrets := append([]string{getenv("PGPASSWORD"), parsedPassword}, passwordCandidates(dsn)...)
	names := append(namesOf(dsn), getenv("PGUSER"), getenv("PGDATABASE"), getenv("PGHOST"))
	return newRedactor(secrets, names)
}

// ForArgs returns a Redactor for a command line: a flag parser may quote an
// argument, and a misplaced argument may be a connection string. Beyond
// credentials, it masks the long passwords that the arguments' connection
// strings hold.
func ForArgs(args []string) *Redactor {
	var secrets, names []string
	for _, arg := range args {
		values := []string{arg}
		if _, v, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(arg, "-") {
			values = append(values, v) // --flag=value
		}
		for _, v := range values {
			secrets = append(secrets, passwordCandidates(v)...)
			names = append(names, namesOf(v)...)
		}
	}
	return newRedactor(secrets, names)
}

// passwordCandidates lists what may be the password of a connection string
// that may be malformed, as written and decoded: the credentials
// maskCredentials finds; the URL userinfo up to every '@' after its first
// ':' (a raw '@' or '/' in a password makes its end ambiguous); a
// keyword/value password with the words after it that are no settings (an
// unquoted space); and a query parameter that starts with "password" but
// lacks its '=' (password:x, password%3Dx, passwordx).
func passwordCandidates(dsn string) []string {
	var raw []string
	for _, sp := range userinfoPasswords(dsn) {
		raw = append(raw, dsn[sp.start:sp.end])
	}
	for _, sp := range keywordPasswords(dsn) {
		raw = append(raw, dsn[sp.start:sp.end])
		if sp.start == 0 || dsn[sp.start-1] != '\'' {
			raw = append(raw, dsn[sp.start:wordsWithoutEquals(dsn, sp.end)])
		}
	}
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if colon := strings.IndexByte(rest, ':'); colon >= 0 && !strings.ContainsAny(rest[:colon], "@/") {
			for at := colon + 1; at < len(rest); at++ {
				if rest[at] == '@' {
					raw = append(raw, rest[colon+1:at])
				}
			}
		}
	}
	if _, query, ok := strings.Cut(dsn, "?"); ok {
		for _, pair := range strings.Split(query, "&") {
			if key, value, ok := strings.Cut(pair, "="); ok && strings.HasSuffix(strings.ToLower(percentDecode(key)), "password") {
				raw = append(raw, value)
			}
			if decoded := percentDecode(pair); len(decoded) > 8 && strings.EqualFold(decoded[:8], "password") {
				raw = append(raw, strings.TrimLeft(decoded[8:], ":="))
			}
		}
	}
	var out []string
	for _, r := range raw {
		if r != "" {
			out = append(out, r, percentDecode(r), unescapeKeyword(r))
		}
	}
	return out
}

// wordsWithoutEquals returns the end of the words after from that hold no
// '=': in a keyword/value string, the rest of a password written with an
// unquoted space.
func wordsWithoutEquals(s string, from int) int {
	end := from
	for _, word := range strings.FieldsFunc(s[from:], func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
		if strings.Contains(word, "=") {
			break
		}
		end = strings.Index(s[end:], word) + end + len(word)
	}
	return end
}

// unescapeKeyword applies libpq's backslash rule to a keyword/value value.
func unescapeKeyword(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// namesOf reads the user, database and host names of a connection string,
// URL or keyword/value, without trusting it to parse.
func namesOf(dsn string) []string {
	var raw []string
	isName := func(key string) bool {
		switch key {
		case "user", "dbname", "database", "host", "hostaddr":
			return true
		}
		return false
	}
	for _, sp := range settingValues(dsn, isName) {
		raw = append(raw, dsn[sp.start:sp.end])
	}
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		rest, ok := strings.CutPrefix(dsn, scheme)
		if !ok {
			continue
		}
		authority, path, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			user, _, _ := strings.Cut(authority[:at], ":")
			raw = append(raw, user)
			authority = authority[at+1:]
		}
		for _, hostPort := range strings.Split(authority, ",") {
			if strings.HasPrefix(hostPort, "[") {
				hostPort, _, _ = strings.Cut(hostPort[1:], "]")
			} else {
				hostPort, _, _ = strings.Cut(hostPort, ":")
			}
			raw = append(raw, hostPort)
		}
		db, _, _ := strings.Cut(path, "?")
		raw = append(raw, db)
	}
	var out []string
	for _, r := range raw {
		for _, name := range strings.Split(unescapeKeyword(percentDecode(strings.Trim(r, "'"))), ",") {
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out
}

// HasPassword reports whether a connection string spells a password where
// one stands.
func HasPassword(dsn string) bool { return maskCredentials(dsn) != dsn }
