// Package redact keeps passwords out of everything the exporter shows:
// error texts in probes, metrics and spans, check details, every log line
// and the command's error line.
//
// It masks a password where the text's structure says one stands, never
// by searching for its letters: the password of URL userinfo
// (postgres://app:xxxxx@db/app), the value of password= (and sslpassword=,
// PGPASSWORD=, ...) in keyword/value strings, quoted or not, and of a
// password query parameter. Text that merely holds the same letters is
// left alone, so a password "app" for user app on database app leaves
// "user=app database=app" as it is. As a second layer, a known secret of at
// least MinAnywhere characters is masked wherever it appears, unless a
// user, database or host name holds it.
//
//	r := redact.ForConnString(dsn, cfg.ConnConfig.Password, os.Getenv)
//	safe := r.String(err.Error())
//	logger := slog.New(r.Handler(handler))
//	details = r.Details(details)
//
// A connection string that does not parse is never quoted: ParseError says
// why and where (a byte offset, a keyword) without any of its text.
package redact
