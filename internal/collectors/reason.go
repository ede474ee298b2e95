package collectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Failure reasons of the database check, used as the reason label of
// dbhealth_check_failures_total and shown in the probe payload.
const (
	ReasonRefused            = "refused"
	ReasonTimeout            = "timeout"
	ReasonAuthFailed         = "auth_failed"
	ReasonDatabaseMissing    = "database_missing" // the server is up; the DSN's database does not exist
	ReasonTooManyConnections = "too_many_connections"
	ReasonStartingUp         = "starting_up"
	ReasonShuttingDown       = "shutting_down"
	ReasonDNS                = "dns"
	ReasonTLS                = "tls"
	ReasonReadOnly           = "read_only"   // a primary is expected; the server is a replica or read-only
	ReasonNotReplica         = "not_replica" // a replica is expected; the server is a primary
	ReasonOther              = "other"
)

// ConnectionReasons are the reasons Reason and Failure give: every reason
// a check that connects through WithFreshConn can fail with because of its
// connection.
func ConnectionReasons() []string {
	return []string{ReasonRefused, ReasonTimeout, ReasonAuthFailed, ReasonDatabaseMissing, ReasonTooManyConnections,
		ReasonStartingUp, ReasonShuttingDown, ReasonDNS, ReasonTLS, ReasonOther}
}

// Reason classifies a connection or query error into one short reason.
// The server's own SQLSTATE wins; then the network's failure; then "other".
func Reason(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return ReasonAuthFailed
		case "3D000": // invalid_catalog_name: dropped, renamed or never created
			return ReasonDatabaseMissing
		case "53300": // too_many_connections
			return ReasonTooManyConnections
		case "57P01", "57P02": // admin_shutdown, crash_shutdown
			return ReasonShuttingDown
		case "57P03": // cannot_connect_now: starting up, in recovery, or shutting down
			if strings.Contains(pgErr.Message, "shutting down") {
				return ReasonShuttingDown
			}
			return ReasonStartingUp
		}
		return ReasonOther
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return ReasonDNS
	case isTLSError(err), strings.Contains(err.Error(), "server refused TLS connection"):
		return ReasonTLS
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return ReasonTimeout
	case errors.Is(err, syscall.ECONNREFUSED), isMissingSocket(err):
		return ReasonRefused
	}
	return ReasonOther
}

// isTLSError reports a failed TLS handshake or certificate check.
func isTLSError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	return errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &invalidCert) || errors.As(err, &alert) || errors.As(err, &recordErr) ||
		strings.Contains(err.Error(), "tls: ")
}

// isMissingSocket reports a unix-socket dial that found no socket file: the
// server is not running, which is "refused" as far as a client can tell.
func isMissingSocket(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Net == "unix" && opErr.Op == "dial" && errors.Is(err, syscall.ENOENT)
}
