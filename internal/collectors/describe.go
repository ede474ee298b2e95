package collectors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
)

// The phases of a check's connection, the first word of its failures.
const (
	phaseDNS     = "dns"     // resolving the host name
	phaseConnect = "connect" // the TCP (or unix socket) connect
	phaseTLS     = "tls"     // the TLS request and handshake
	phaseAuth    = "auth"    // the startup message and authentication, until the server is ready
	phaseQuery   = "query"   // the check's queries
)

// doing says what a run that timed out in a phase was waiting for.
var doing = map[string]string{
	phaseDNS:     "resolving the host name",
	phaseConnect: "connecting",
	phaseTLS:     "negotiating TLS",
	phaseAuth:    "waiting for the server during startup and authentication",
	phaseQuery:   "waiting for the query's answer",
}

// connError is a failure of a check's connection or of its queries. Its
// text is describe's one line; it unwraps to the error pgx returned, which
// Reason classifies.
type connError struct {
	line string
	err  error
}

func (e *connError) Error() string { return e.line }
func (e *connError) Unwrap() error { return e.err }

// where is what describe needs to know beyond the error: the phase and
// address to name when the error does not (a query's error, a bare
// deadline), and how long the run had been at it.
type where struct {
	phase   string
	addr    string
	elapsed time.Duration
}

// describe turns a connection or query error into one line:
//
//	<phase> <host:port>: <what went wrong>
//
// such as `auth 10.0.0.5:5432: FATAL: password authentication failed for
// user "app" (SQLSTATE 28P01)` or `tls 10.0.0.5:5432: timed out after 2s
// negotiating TLS`. pgx reports every connection attempt (each address of
// each host, and with sslmode=prefer a retry without TLS); describe keeps
// the one that tells why: for each address the last attempt (the retry,
// not "server refused TLS connection"), and none after a timeout (the
// deadline had passed, they failed without trying). Addresses that failed
// alike share one clause; clauses are joined by "; ". Control characters
// never reach the line.
func describe(err error, at where) string {
	var clauses []string
	for _, g := range groupByMessage(pick(attempts(err, at)), at.elapsed) {
		clauses = append(clauses, g.phase+" "+strings.Join(g.addrs, ", ")+": "+g.message)
	}
	return OneLine(strings.Join(clauses, "; "))
}

// attempt is one connection attempt, or one query, and how it failed.
type attempt struct {
	phase string
	addr  string // "127.0.0.1:5432", "10.0.0.5:5432 (db.example.com)" or a socket path
	cause error  // without pgx's prefixes
}

// attempts lists what err reports: the attempts of a pgconn.ConnectError,
// or err itself in at's phase.
func attempts(err error, at where) []attempt {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return []attempt{{phase: at.phase, addr: at.addr, cause: err}}
	}
	inner := ce.Unwrap()
	// "hostname resolving error: <the lookups' errors, joined>"
	if u := errors.Unwrap(inner); u != nil {
		if _, joined := u.(interface{ Unwrap() []error }); joined {
			inner = u
		}
	}
	each := []error{inner}
	if joined, ok := inner.(interface{ Unwrap() []error }); ok {
		each = joined.Unwrap()
	}
	var out []attempt
	for _, e := range each {
		if a, ok := perDial(e); ok {
			out = append(out, a)
			continue
		}
		var dnsErr *net.DNSError
		if errors.As(e, &dnsErr) {
			out = append(out, attempt{phase: phaseDNS, addr: hostPort(ce.Config, dnsErr.Name), cause: dnsErr})
			continue
		}
		out = append(out, attempt{phase: phaseConnect, addr: at.addr, cause: e})
	}
	return out
}

// perDial reads one attempt as pgconn reports it (its unexported
// perDialConnectError): "<address> (<host>): <step>: <cause>", where the
// error wraps "<step>: <cause>", which wraps the cause.
func perDial(err error) (attempt, bool) {
	step := errors.Unwrap(err)
	if step == nil {
		return attempt{}, false
	}
	prefix, ok := strings.CutSuffix(err.Error(), ": "+step.Error())
	if !ok || !strings.HasSuffix(prefix, ")") {
		return attempt{}, false
	}
	addr, host, ok := strings.Cut(strings.TrimSuffix(prefix, ")"), " (")
	if !ok || addr == "" || strings.Contains(addr, " ") {
		return attempt{}, false
	}
	name, cause := step.Error(), errors.Unwrap(step)
	if cause != nil {
		name = strings.TrimSuffix(name, ": "+cause.Error())
	} else {
		cause = errors.New(strings.TrimSuffix(name, ": %!w(<nil>)"))
	}
	if net.ParseIP(host) == nil && !filepath.IsAbs(host) {
		addr += " (" + host + ")"
	}
	return attempt{phase: stepPhase(name, cause), addr: addr, cause: cause}, true
}

// stepPhase maps pgconn's name for the step an attempt failed in to a phase.
func stepPhase(step string, cause error) string {
	switch step {
	case "dial error", "AfterNetConnect failed":
		return phaseConnect
	case "tls error", "sslcertmode check failed":
		return phaseTLS
	case "ValidateConnect failed":
		return phaseQuery
	case "failed to write startup message":
		// The first write after connecting; over TLS it runs the
		// handshake, the only way this write can fail on a read.
		var opErr *net.OpError
		if isTLSError(cause) || (errors.As(cause, &opErr) && opErr.Op == "read") {
			return phaseTLS
		}
		return phaseConnect
	}
	if isTLSError(cause) {
		return phaseTLS
	}
	return phaseAuth
}

// pick keeps the attempts that tell why the connect failed: none after the
// first timeout, and for each address only its last attempt.
func pick(all []attempt) []attempt {
	for i, a := range all {
		if isTimeout(a.cause) {
			all = all[:i+1]
			break
		}
	}
	var out []attempt
	index := map[string]int{}
	for _, a := range all {
		if i, ok := index[a.addr]; ok {
			out[i] = a
			continue
		}
		index[a.addr] = len(out)
		out = append(out, a)
	}
	return out
}

// clause is the addresses that failed in one phase with one message.
type clause struct {
	phase, message string
	addrs          []string
}

func groupByMessage(picked []attempt, elapsed time.Duration) []clause {
	var out []clause
	for _, a := range picked {
		msg := message(a, elapsed)
		i := 0
		for i < len(out) && (out[i].phase != a.phase || out[i].message != msg) {
			i++
		}
		if i == len(out) {
			out = append(out, clause{phase: a.phase, message: msg})
		}
		out[i].addrs = append(out[i].addrs, a.addr)
	}
	return out
}

// message says what went wrong in an attempt, without the address or
// pgx's prefixes: the server's error with its SQLSTATE, the system's
// error, or for a timeout what was being waited for and for how long.
func message(a attempt, elapsed time.Duration) string {
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var errno syscall.Errno
	switch {
	case errors.As(a.cause, &pgErr):
		return a.cause.Error() // the server's message, and what the check was reading
	case isTimeout(a.cause):
		return fmt.Sprintf("timed out after %s %s", roundDuration(elapsed), doing[a.phase])
	case errors.As(a.cause, &dnsErr):
		return dnsErr.Err
	case isTLSError(a.cause):
		// From "tls: ...", without pgx's "write failed: ".
		for e := a.cause; e != nil; e = errors.Unwrap(e) {
			if strings.HasPrefix(e.Error(), "tls: ") {
				return e.Error()
			}
		}
	case errors.As(a.cause, &errno):
		return errno.Error()
	}
	return a.cause.Error()
}

// roundDuration keeps three significant figures or so: 80ms, 2.5s, 2s.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// isTimeout reports a deadline that ran out: the run's, the connect's or
// the socket's.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// hostPort is host with the port cfg gives it.
func hostPort(cfg *pgconn.Config, host string) string {
	port := cfg.Port
	if cfg.Host != host {
		for _, fb := range cfg.Fallbacks {
			if fb.Host == host {
				port = fb.Port
				break
			}
		}
	}
	return net.JoinHostPort(host, fmt.Sprint(port))
}

// OneLine replaces every run of white space and control characters with
// one space: error texts end up in JSON, verbose probe lines and log lines.
func OneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
