package main

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
)

// secrets lists every password the exporter may come to hold: from the
// parsed configuration (DSN, PGPASSWORD, .pgpass; one password serves
// every host of a multi-host DSN) and, in case parsing
// failed, from the raw connection string itself.
func secrets(dsn string, cfg *pgxpool.Config, getenv func(string) string) []string {
	out := []string{getenv("PGPASSWORD"), rawPassword(dsn)}
	if cfg != nil {
		out = append(out, cfg.ConnConfig.Password)
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

// describe names the database for logs and the landing page, without the
// password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
