package collectors

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WithFreshConn runs fn on a new connection from pool and closes it
// afterwards instead of returning it: every check run connects anew, so
// connect-time failures are seen (see Database). connected is when the
// connection was ready.
func WithFreshConn(ctx context.Context, pool *pgxpool.Pool, fn func(conn *pgx.Conn, connected time.Time) error) error {
	pooled, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pooled.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	return fn(conn, time.Now())
}
