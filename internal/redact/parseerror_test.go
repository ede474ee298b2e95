package redact

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestParseError_SaysWhyAndWhereWithoutQuoting(t *testing.T) {
	cases := []struct{ dsn, want string }{
		{"postgres://app@db/app?password:SECRETpw", `the query parameter at byte offset 22 has no "="`},
		{"postgres://app@db/app?password%3DSECRETpw", `the query parameter at byte offset 22 has no "="`},
		{"postgres://app@db/app?sslmode=disable&passwordSECRETpw", `the query parameter at byte offset 38 has no "="`},
		{"postgres://app@db/app?sslmode&x=1", `the query parameter sslmode at byte offset 22 has no "="`},
		{"host=db user=app password=SECRET pw dbname=app", `a word not followed by "=" after the value of password (a value holding white space must be in single quotes)`},
		{"host=db application_name=my app dbname=x", `a word not followed by "=" at byte offset 28, after the value of application_name (a value holding white space must be in single quotes)`},
		{"host=db password='SECRET", "the quoted value of password opened at byte offset 17 is not closed"},
		{"=x", `"=" without a keyword at byte offset 0`},
		{"host=db SECRET", `text without "=" at byte offset 8, after the value of host (a value holding white space must be in single quotes)`},
		{"postgres://app:SECRET%zz@db/app", "the password holds an invalid percent-encoding"},
		{"postgres://app@[::1/app", `an IPv6 address opened by "[" at byte offset 15 is not closed`},
		{"postgres://app@db/ap p", "the database name holds a space (write %20) at byte offset 20"},
		{"postgres://a@h/db?password=SEC=RET", `the query parameter password at byte offset 18 holds a second "="`},
		{"postgres://a@h/db?password=SEC%zz", "the value of the query parameter password at byte offset 18 holds an invalid percent-encoding"},
		{"postgres://app:SECRET@db:port/app", "invalid port"},
		{"postgres://app@db/app?connect_timeout=SECRET", "invalid connect_timeout: not a number"},
		{"postgres://app@db/app?sslmode=SECRET", "failed to configure TLS: sslmode is invalid"},
		{"postgres://app@db/app?target_session_attrs=SECRET", "unknown target_session_attrs value"},
		{"postgres://app@db/app?pool_max_conn_lifetime=SECRET", "cannot parse pool_max_conn_lifetime: time: invalid duration"},
		{"host=db sslmode=verify-full sslrootcert=/nonexistent/SECRET.pem", "failed to configure TLS: unable to read CA file: open: no such file or directory"},
	}
	for _, tc := range cases {
		_, err := pgxpool.ParseConfig(tc.dsn)
		if err == nil {
			t.Errorf("%q parses", tc.dsn)
			continue
		}
		got := ParseError(err)
		if want := "cannot parse the connection string: " + tc.want; got != want {
			t.Errorf("ParseError(%q)\n got %q\nwant %q", tc.dsn, got, want)
		}
		if strings.Contains(got, "SECRET") {
			t.Errorf("ParseError(%q) = %q quotes the string", tc.dsn, got)
		}
	}
}

// vocabulary is every word ParseError may say: the words of the string
// literals of parseerror.go and syntax.go (which hold pgx's fixed
// messages and the libpq keywords), and of the system's error texts.
func vocabulary(t testing.TB) map[string]bool {
	words := map[string]bool{}
	add := func(s string) {
		for _, w := range wordRE.FindAllString(s, -1) {
			words[w] = true
		}
	}
	fset := token.NewFileSet()
	for _, file := range []string{"parseerror.go", "syntax.go"} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				add(s)
			}
			return true
		})
	}
	for errno := range syscall.Errno(200) {
		add(errno.Error())
	}
	add("open read stat lstat readlink") // the operations of file errors
	return words
}

var wordRE = regexp.MustCompile(`[A-Za-z_]+`)

// FuzzParseError parses fuzzed connection strings with pgx. Wherever pgx
// fails, ParseError's text is made of vocabulary words and numbers only
// (so it quotes nothing of the string), and for a syntax error it says
// where (urlProblem or keywordProblem found the problem pgx found).
func FuzzParseError(f *testing.F) {
	for _, seed := range []string{
		"postgres://app@db/app?password:SECRET", "postgres://app@db/app?password%3DSECRET",
		"postgres://app@db/app?sslmode=disable&passwordSECRET", "host=db password=SEC RET dbname=app",
		"host=db password='SECRET", "postgres://app:SE%zzCRET@db/app", "postgres://app@[::1/app",
		"postgres://u@h1,h2:5432,h3:1/db?target_session_attrs=nope", "postgresql://app:pw@db:port/app",
		"host=db port=notaport", "=x", "postgres://a@h/db?password=a=b", "postgres://a@h/d b", "user=a\x00",
		"postgres://a@h:1 2/db", "postgres://a%@h/db", "host=db connect_timeout=-1",
	} {
		f.Add(seed)
	}
	words := vocabulary(f)
	f.Fuzz(func(t *testing.T, dsn string) {
		if strings.Contains(dsn, "/dev") || strings.Contains(dsn, "/proc") || strings.Contains(dsn, "/sys") {
			return // a file setting (sslrootcert=/dev/zero) would be read
		}
		_, err := pgxpool.ParseConfig(dsn)
		if err == nil {
			return
		}
		got := ParseError(err)
		for _, w := range wordRE.FindAllString(got, -1) {
			if !words[w] {
				t.Fatalf("ParseError(%q) = %q says %q, which is none of its words\npgx: %v", dsn, got, w, err)
			}
		}
		for _, generic := range []string{"not a valid URL", "not a valid keyword/value string"} {
			if strings.HasSuffix(got, ": "+generic) {
				t.Fatalf("ParseError(%q) = %q does not say where\npgx: %v", dsn, got, err)
			}
		}
	})
}
