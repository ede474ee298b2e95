package migrations

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgExec runs SQL on dsn; the tests use it to build tables exactly as a
// tool's documentation lays them out, for tools that cannot be installed
// here.
func pgExec(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
