package redact

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
)

// ForConnString returns a Redactor for every password the exporter may come
// to hold for a connection string: the one pgx parsed (from the string,
// PGPASSWORD or .pgpass; one password serves every host of a multi-host
// string; "" when it did not parse), PGPASSWORD, and every reading of the
// raw string itself, in case parsing failed.
func ForConnString(dsn, parsedPassword string, getenv func(string) string) *Redactor {
	return New(append([]string{getenv("PGPASSWORD"), parsedPassword}, passwordCandidates(dsn)...)...)
}

// ForArgs returns a Redactor for whatever looks like a password in a
// command line: a flag parser may quote an argument, and a misplaced
// argument may be a connection string.
func ForArgs(args []string) *Redactor {
	var secrets []string
	for _, arg := range args {
		secrets = append(secrets, passwordCandidates(arg)...)
	}
	return New(secrets...)
}

// minPiece is the shortest part of a candidate password masked on its own.
const minPiece = 4

// isSplit tells the characters at which a redaction of a string it cannot
// parse may have cut a password: white space, '@', '/' and quotes.
func isSplit(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(`@/'"`, r) }

// passwordCandidates lists what may be the password of a connection string
// that may not parse, where its end is ambiguous: an unescaped '@' or '/'
// in URL userinfo (read up to the first and up to every later '@'), or a
// quoted keyword value with escapes (as written and unescaped). Each
// candidate's pieces (see isSplit) of at least minPiece characters are
// candidates too, since an error may quote a string already partly masked
// or cut there.
// Masking too much of an error message is harmless; leaking part of a
// password is not.
func passwordCandidates(dsn string) []string {
	var out []string
	if p := rawPassword(dsn); p != "" {
		out = append(out, p)
	}
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		if colon := strings.IndexByte(rest, ':'); colon >= 0 {
			for at := colon + 1; at < len(rest); at++ {
				if rest[at] == '@' {
					out = append(out, rest[colon+1:at])
				}
			}
		}
	}
	if m := keywordPassword.FindStringSubmatch(dsn); m != nil {
		raw := strings.Trim(m[1], "'")
		out = append(out, raw, strings.NewReplacer(`\\`, `\`, `\'`, "'").Replace(raw))
	}
	for _, c := range out {
		if unescaped, err := url.PathUnescape(c); err == nil {
			out = append(out, unescaped)
		}
		for _, piece := range strings.FieldsFunc(c, isSplit) {
			if len(piece) >= minPiece {
				out = append(out, piece)
			}
		}
	}
	return out
}

var (
	keywordPassword  = regexp.MustCompile(`(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)
	userinfoPassword = regexp.MustCompile(`^[a-z]+://[^:/@]*:([^@/]*)@`)
)

// rawPassword finds the password in a connection string without trusting it
// to parse: URL userinfo, a password query parameter, or a password= keyword.
func rawPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		if p, ok := u.User.Password(); ok {
			return p
		}
		if p := u.Query().Get("password"); p != "" {
			return p
		}
	}
	if m := userinfoPassword.FindStringSubmatch(dsn); m != nil {
		return m[1]
	}
	if m := keywordPassword.FindStringSubmatch(dsn); m != nil {
		p := m[1]
		if len(p) >= 2 && p[0] == '\'' {
			p = p[1 : len(p)-1]
		}
		return p
	}
	return ""
}

// ParseError says why a connection string does not parse without quoting
// it: pgx's message quotes the string, with a redaction that is necessarily
// best effort for a string it cannot parse.
func ParseError(err error) string {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return err.Error()
	}
	text, why := pce.Error(), ""
	if inner := errors.Unwrap(pce); inner != nil {
		why = " (" + inner.Error() + ")"
		text = strings.TrimSuffix(text, why)
	}
	if i := strings.LastIndex(text, "`: "); i >= 0 {
		return "cannot parse the connection string: " + text[i+3:] + why
	}
	return "cannot parse the connection string" + why
}

// HasPassword reports whether a connection string spells a password.
func HasPassword(dsn string) bool { return rawPassword(dsn) != "" }
