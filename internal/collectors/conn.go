package collectors

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// reportGrace is how long past a run's deadline WithFreshConn waits for the
// pool's connect attempt to say why it failed. The attempt ends at that
// deadline (see PoolConfig), so its error arrives at once; it names the
// phase that hung, which the Acquire's own "context deadline exceeded"
// would not. It stays well below the engine's backstop.
const reportGrace = 100 * time.Millisecond

// WithFreshConn runs fn on a new connection from pool and closes it
// afterwards instead of returning it: every check run connects anew, so
// connect-time failures are seen (see Database). connected is when the
// connection was ready.
//
// The connect ends by ctx's deadline, even though the pool opens it in the
// background. Its failures, and the errors fn returns, come back as one
// line naming the phase and the server's address (see describe); they
// unwrap to the errors pgx returned.
func WithFreshConn(ctx context.Context, pool *pgxpool.Pool, fn func(conn *pgx.Conn, connected time.Time) error) error {
	start := time.Now()
	pooled, err := acquire(ctx, pool)
	if err != nil {
		return &connError{describe(err, where{phase: phaseConnect, addr: configuredAddr(pool), elapsed: time.Since(start)}), err}
	}
	conn := pooled.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if ctx.Err() != nil {
		// Connected, but only within reportGrace: nothing is left for fn.
		err := &lateError{ctx.Err()}
		return &connError{describe(err, where{phase: phaseConnect, addr: remoteAddr(conn), elapsed: time.Since(start)}), err}
	}
	// The connect's deadline (boundedDial) is done with; fn runs under ctx.
	_ = conn.PgConn().Conn().SetDeadline(time.Time{})
	if err := fn(conn, time.Now()); err != nil {
		return &connError{describe(err, where{phase: phaseQuery, addr: remoteAddr(conn), elapsed: time.Since(start)}), err}
	}
	return nil
}

// acquire gets a new connection from pool for a run under ctx: it hands the
// run's deadline to the pool's background connect (PoolConfig's dial and
// lookup honour it), and waits for the attempt's own error up to
// reportGrace past that deadline. A cancelled ctx stops the wait at once.
func acquire(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Conn, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return pool.Acquire(ctx)
	}
	waitCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(reportGrace))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	defer stop()
	return pool.Acquire(context.WithValue(waitCtx, runDeadlineKey{}, deadline))
}

// configuredAddr is the pool's first host and port, for a failure that
// does not name the address it tried.
func configuredAddr(pool *pgxpool.Pool) string {
	cfg := pool.Config().ConnConfig
	_, addr := pgconn.NetworkAddress(cfg.Host, cfg.Port)
	return addr
}

// remoteAddr is the address conn is connected to.
func remoteAddr(conn *pgx.Conn) string {
	if a := conn.PgConn().Conn().RemoteAddr(); a != nil && a.String() != "" {
		return a.String()
	}
	cfg := conn.Config()
	_, addr := pgconn.NetworkAddress(cfg.Host, cfg.Port)
	return addr
}

// lateError is a connection that was ready only after the run's deadline.
type lateError struct{ err error }

func (e *lateError) Error() string { return "connected only after the deadline: " + e.err.Error() }
func (e *lateError) Unwrap() error { return e.err }
