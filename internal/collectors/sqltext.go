package collectors

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// The SQL of a custom check is checked when the configuration is loaded,
// before anything runs: one statement, and a query rather than a write.
// The read-only transaction it runs in is the guarantee (a function that
// writes fails there); this check turns the mistakes that can be seen in
// the text into a configuration error instead of a failing check.

// readStarts are the first words of a statement that reads.
var readStarts = map[string]bool{"select": true, "with": true, "values": true, "table": true}

// writeWords are keywords that, outside strings and comments, make a
// statement a write wherever they stand: a data-modifying WITH, SELECT ...
// INTO (which creates a table), ... FOR UPDATE (which locks rows, refused
// in a read-only transaction too). Functions that write are not seen here;
// the read-only transaction refuses them when the check runs.
var writeWords = map[string]bool{
	"insert": true, "update": true, "delete": true, "merge": true, "into": true,
	"create": true, "drop": true, "alter": true, "truncate": true, "grant": true,
	"revoke": true, "copy": true,
}

// CheckQuery reports why sql cannot be a custom check's query: more than
// one statement, none, or a statement that is not a plain query.
func CheckQuery(sql string) error {
	words, statements, err := scanSQL(sql)
	if err != nil {
		return err
	}
	switch {
	case statements == 0:
		return errors.New("no SQL statement")
	case statements > 1:
		return fmt.Errorf("%d statements; a check runs exactly one", statements)
	case len(words) == 0:
		return errors.New("not a query: a check runs SELECT, WITH, VALUES or TABLE")
	case !readStarts[words[0]]:
		return fmt.Errorf("starts with %s: a check runs a query (SELECT, WITH, VALUES or TABLE)", strings.ToUpper(words[0]))
	}
	for _, w := range words {
		if writeWords[w] {
			return fmt.Errorf("contains %s: a check runs read-only queries", strings.ToUpper(w))
		}
	}
	return nil
}

// scanSQL returns the lower-cased words of sql outside string literals,
// quoted identifiers and comments, and the number of non-empty statements
// (separated by semicolons). Only the words of the first statement are
// returned.
func scanSQL(sql string) (words []string, statements int, err error) {
	s := []rune(sql)
	inStatement := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ';':
			if inStatement {
				statements++
			}
			inStatement = false
			i++
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			depth := 0
			for ; i < len(s); i++ {
				if i+1 < len(s) && s[i] == '/' && s[i+1] == '*' {
					depth++
					i++
				} else if i+1 < len(s) && s[i] == '*' && s[i+1] == '/' {
					depth--
					i++
					if depth == 0 {
						i++
						break
					}
				}
			}
			if depth != 0 {
				return nil, 0, errors.New("a comment is not closed")
			}
		case c == '\'' || c == '"':
			inStatement = true
			escapes := c == '\'' && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E')
			j := i + 1
			for ; j < len(s); j++ {
				if escapes && s[j] == '\\' {
					j++
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return nil, 0, fmt.Errorf("a %s quote is not closed", map[rune]string{'\'': "single", '"': "double"}[c])
			}
			i = j + 1
		case c == '$':
			inStatement = true
			tag, ok := dollarTag(s[i:])
			if !ok {
				i++ // a parameter ($1) or an operator
				continue
			}
			end := strings.Index(string(s[i+len(tag):]), string(tag))
			if end < 0 {
				return nil, 0, fmt.Errorf("the dollar quote %s is not closed", string(tag))
			}
			i += len(tag) + len([]rune(string(s[i+len(tag):])[:end])) + len(tag)
		case unicode.IsLetter(c) || c == '_':
			inStatement = true
			j := i
			for j < len(s) && (unicode.IsLetter(s[j]) || unicode.IsDigit(s[j]) || s[j] == '_' || s[j] == '$') {
				j++
			}
			if statements == 0 {
				words = append(words, strings.ToLower(string(s[i:j])))
			}
			i = j
		default:
			inStatement = true
			i++
		}
	}
	if inStatement {
		statements++
	}
	return words, statements, nil
}

// dollarTag returns the opening tag of a dollar-quoted string at the start
// of s ($$ or $name$), if there is one.
func dollarTag(s []rune) ([]rune, bool) {
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1], true
		case unicode.IsLetter(s[j]) || s[j] == '_' || (j > 1 && unicode.IsDigit(s[j])):
		default:
			return nil, false
		}
	}
	return nil, false
}
