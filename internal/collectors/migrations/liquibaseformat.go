package migrations

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The line patterns of Liquibase's formatted SQL changelogs, as
// liquibase.parser.AbstractFormattedChangeLogParser (4.28) matches them,
// each against a whole line.
var (
	lbFirstLine       = lbPattern(`\s*--\s*liquibase\s*formatted.*`)
	lbProperty        = lbPattern(`\s*--[\s]*property\s+(.*:.*)\s+(.*:.*).*`)
	lbAltProperty     = lbPattern(`\s*?[-]+\s*property\s.*`)
	lbChangeset       = lbPattern(`\s*--[\s]*changeset\s+("[^"]+"|[^:]+):\s*("[^"]+"|\S+).*`)
	lbAltChangeset    = lbPattern(`-[\s]*changeset\s.*|\s*--[\s]*changeset[\s]*.*`)
	lbComment         = lbPattern(`--[\s]*comment:? (.*)`)
	lbAltComment      = lbPattern(`-[\s]*comment:? (.*)|--[\s]*comments:? (.*)`)
	lbValidCheckSum   = lbPattern(`--[\s]*validCheckSum:? (.*)`)
	lbAltValidSum     = lbPattern(`-[\s]*validCheckSum(.*)`)
	lbRollback        = lbPattern(`\s*--[\s]*rollback (.*)`)
	lbAltRollback     = lbPattern(`\s*-[\s]*rollback\s.*`)
	lbRollbackStart   = lbPattern(`\s*/\*\s*liquibase\s*rollback\s*`)
	lbRollbackEnd     = lbPattern(`.*\s*\*/\s*`)
	lbPreconditions   = lbPattern(`\s*--[\s]*preconditions(.*)`)
	lbAltPrecondition = lbPattern(`\s*-[\s]*preconditions\s.*|\s*-[\s]*precondition(.*)`)
	lbPrecondition    = lbPattern(`\s*--[\s]*precondition\-([a-zA-Z0-9-]+) (.*)`)
	lbEmptyPrecond    = lbPattern(`\s*--[\s]*precondition\-([a-zA-Z0-9-]+)`)
	lbIgnoreLines     = lbPattern(`--[\s]*ignoreLines:(\w+)`)
	lbAltIgnoreLines  = lbPattern(`-[\s]*?ignoreLines:(\w+).*|--[\s]*ignore:(\w+)`)

	// Attributes of the --changeset line (and logicalFilePath of the
	// first line).
	lbAttrIgnore          = lbPattern(`.*ignore:(\w*).*`)
	lbAttrDBMS            = lbPattern(`.*dbms:([^,][\w!,]+).*`)
	lbAttrLogicalFilePath = lbPattern(`.*logicalFilePath:(\S*).*`)
	lbAttrRunOnChange     = lbPattern(`.*runOnChange:(\w+).*`)
)

// lbPattern compiles, on first use, a Java Pattern used with matches():
// whole line, case insensitive.
func lbPattern(re string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^(?:` + re + `)$`) })
}

// lbChangesetDraft is a changeset being read.
type lbChangesetDraft struct {
	file, id, author string
	body             []string
	skipChecksum     bool // the stored md5sum may legitimately differ
	skip             bool // Liquibase never runs it on PostgreSQL
}

// parseLiquibaseSQL reads one file; it returns nothing for a .sql file that
// is not a formatted SQL changelog (its first non-blank line says so).
// Like Liquibase it rejects lines that look like misspelt directives.
func parseLiquibaseSQL(file string, content []byte) ([]Migration, error) {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	lines := lbSplitLines(string(content))
	first := lbFirstNonBlank(lines)
	if first < 0 || !lbFirstLine().MatchString(lines[first]) {
		return nil, nil
	}
	invalid := func(n int, msg string) error {
		return &InvalidFileError{file, "line " + strconv.Itoa(n+1) + ": " + msg}
	}
	logicalFile := ""
	var out []Migration
	var cur *lbChangesetDraft
	finish := func() {
		if cur != nil && !cur.skip {
			out = append(out, cur.migration())
		}
	}
	for n := 0; n < len(lines); n++ {
		line := lines[n]
		switch {
		case lbProperty().MatchString(line):
			continue
		case lbAltProperty().MatchString(line):
			return nil, invalid(n, "malformed --property")
		}
		if lbFirstLine().MatchString(line) {
			logicalFile = lbAttr(lbAttrLogicalFilePath(), line)
		}
		if m := lbIgnoreLines().FindStringSubmatch(line); m != nil {
			skipped, err := lbIgnore(lines[n+1:], m[1])
			if err != "" {
				return nil, invalid(n, err)
			}
			n += skipped
			continue
		} else if lbAltIgnoreLines().MatchString(line) {
			return nil, invalid(n, "malformed --ignoreLines")
		}
		if m := lbChangeset().FindStringSubmatch(line); m != nil {
			if cur != nil && strings.TrimSpace(strings.Join(cur.body, "\n")) == "" {
				return nil, invalid(n, "no SQL for changeset "+cur.id)
			}
			finish()
			next, msg := lbStartChangeset(file, logicalFile, line, m[1], m[2])
			if msg != "" {
				return nil, invalid(n, msg)
			}
			cur = next
			continue
		}
		if lbAltChangeset().MatchString(line) {
			return nil, invalid(n, "expected --changeset <author>:<id>")
		}
		if cur == nil {
			if lbComment().MatchString(line) {
				return nil, invalid(n, "comment outside a changeset")
			}
			continue
		}
		switch m := lbPrecondition().FindStringSubmatch(line); {
		case lbComment().MatchString(line), lbRollback().MatchString(line), lbPreconditions().MatchString(line):
		case m != nil && slices.Contains([]string{"sql-check", "table-exists", "view-exists"}, m[1]):
		case m != nil, lbEmptyPrecond().MatchString(line):
			return nil, invalid(n, "unsupported or incomplete precondition: "+strings.TrimSpace(line))
		case lbValidCheckSum().MatchString(line):
			cur.skipChecksum = true
		case lbRollbackStart().MatchString(line):
			end := n + 1
			for end < len(lines) && !lbRollbackEnd().MatchString(lines[end]) {
				end++
			}
			if end == len(lines) {
				return nil, invalid(n, "rollback comment is not closed")
			}
			n = end
		case lbAltComment().MatchString(line), lbAltValidSum().MatchString(line),
			lbAltRollback().MatchString(line), lbAltPrecondition().MatchString(line):
			return nil, invalid(n, "malformed directive "+strings.TrimSpace(line))
		default:
			cur.body = append(cur.body, line)
		}
	}
	finish()
	return out, nil
}

// lbStartChangeset reads a --changeset line.
var lbChangesetPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^\s*--\s*changeset\s+`) })

func lbStartChangeset(file, logicalFile, line, author, id string) (*lbChangesetDraft, string) {
	// The line must spell author:id right after "--changeset" (compared
	// without case, as Liquibase does). No pattern is built from the
	// file's text: that text need not even be valid UTF-8.
	rest, want := line, author+":"+id
	if loc := lbChangesetPrefix().FindStringIndex(line); loc != nil {
		rest = line[loc[1]:]
	}
	if len(rest) < len(want) || !strings.EqualFold(rest[:len(want)], want) {
		return nil, "expected --changeset <author>:<id>, with no space after the colon"
	}
	id, author = lbStripQuotes(id), lbStripQuotes(author)
	if strings.NewReplacer(":", "", " ", "").Replace(id) == "" {
		return nil, "empty changeset id"
	}
	if p := lbAttr(lbAttrLogicalFilePath(), line); p != "" {
		logicalFile = p
	}
	if logicalFile != "" {
		file = liquibaseNormalizePath(logicalFile)
	}
	c := &lbChangesetDraft{file: file, id: id, author: author}
	c.skip = strings.EqualFold(lbAttr(lbAttrIgnore(), line), "true") || !lbRunsOnPostgres(lbAttr(lbAttrDBMS(), line))
	c.skipChecksum = strings.EqualFold(lbAttr(lbAttrRunOnChange(), line), "true")
	return c, ""
}

func (c *lbChangesetDraft) migration() Migration {
	v := liquibaseVersion(c.file, c.id, c.author)
	body := strings.Join(c.body, "\n")
	m := Migration{Version: v, Name: v}
	// Property substitution (${name}) changes the SQL Liquibase hashes.
	if !c.skipChecksum && !strings.Contains(body, "${") {
		m.Checksum = liquibaseChecksum(body)
	}
	return m
}

// liquibaseChecksum is the "9:" md5sum Liquibase 4.22+ stores for a
// changeset of one SQL change (ChangeSet.generateCheckSum with
// ChecksumVersion.V9): the change's checksum is the MD5 of its SQL, trimmed
// and with every space, tab, CR and LF removed
// (AbstractSQLChange.NormalizingStream); the changeset's is the MD5 of
// "9:<change md5>:".
func liquibaseChecksum(sql string) string {
	sql = strings.TrimFunc(sql, func(r rune) bool { return r <= ' ' })
	sql = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, sql)
	change := md5.Sum([]byte(sql))
	changeset := md5.Sum([]byte("9:" + hex.EncodeToString(change[:]) + ":"))
	return "9:" + hex.EncodeToString(changeset[:])
}

// lbRunsOnPostgres is DatabaseList.definitionMatches(dbms, "postgresql").
func lbRunsOnPostgres(dbms string) bool {
	if strings.TrimSpace(dbms) == "" {
		return true
	}
	var listed []string
	for _, d := range strings.Split(strings.ToLower(dbms), ",") {
		listed = append(listed, strings.TrimSpace(d))
	}
	supported := 0
	for _, d := range listed {
		switch {
		case d == "all":
			return true
		case d == "none", d == "!postgresql":
			return false
		case !strings.HasPrefix(d, "!"):
			supported++
		}
	}
	for _, d := range listed {
		if d == "postgresql" {
			return true
		}
	}
	return supported == 0
}

// lbIgnore applies --ignoreLines:<count|start> to the lines after it and
// returns how many it skips.
func lbIgnore(rest []string, arg string) (int, string) {
	if arg == "start" {
		for i, l := range rest {
			if m := lbIgnoreLines().FindStringSubmatch(l); m != nil && m[1] == "end" {
				return i + 1, ""
			}
			if lbAltIgnoreLines().MatchString(l) {
				return 0, "malformed --ignoreLines:end"
			}
		}
		return len(rest), ""
	}
	count, err := strconv.Atoi(arg)
	if err != nil {
		return 0, "unknown ignoreLines syntax " + strconv.Quote(arg)
	}
	return min(max(count, 0), len(rest)), ""
}

// lbAttr returns an attribute's value from a line, or "".
func lbAttr(re *regexp.Regexp, line string) string {
	if m := re.FindStringSubmatch(line); m != nil {
		return m[1]
	}
	return ""
}

// lbStripQuotes is StringUtil.stripEnclosingQuotes.
func lbStripQuotes(s string) string {
	if len(s) > 1 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// lbSplitLines splits like BufferedReader.readLine: at \n, \r or \r\n.
func lbSplitLines(s string) []string {
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// lbFirstNonBlank returns the index of the first line that is not
// blank, or -1.
func lbFirstNonBlank(lines []string) int {
	for i, l := range lines {
		if strings.TrimSpace(l) != "" {
			return i
		}
	}
	return -1
}
