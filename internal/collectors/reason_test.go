package collectors

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// These errors are built by hand because the classifier is a pure function;
// database_test.go produces each reason from a real server.
func TestReason_ClassifiesErrors(t *testing.T) {
	pg := func(code, msg string) error {
		return fmt.Errorf("failed to connect: %w", &pgconn.PgError{Code: code, Message: msg})
	}
	cases := []struct {
		err  error
		want string
	}{
		{pg("28P01", "password authentication failed for user \"app\""), ReasonAuthFailed},
		{pg("28000", "no pg_hba.conf entry"), ReasonAuthFailed},
		{pg("53300", "sorry, too many clients already"), ReasonTooManyConnections},
		{pg("57P03", "the database system is starting up"), ReasonStartingUp},
		{pg("57P03", "the database system is not accepting connections"), ReasonStartingUp},
		{pg("57P03", "the database system is shutting down"), ReasonShuttingDown},
		{pg("57P01", "terminating connection due to administrator command"), ReasonShuttingDown},
		{pg("3D000", "database \"x\" does not exist"), ReasonDatabaseMissing},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ReasonRefused},
		{&net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}, ReasonRefused},
		{&net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true}, ReasonDNS},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), ReasonTimeout},
		{errors.New("server refused TLS connection"), ReasonTLS},
		{fmt.Errorf("tls handshake: %w", x509.UnknownAuthorityError{}), ReasonTLS},
		{errors.New("unexpected EOF"), ReasonOther},
	}
	for _, tc := range cases {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
