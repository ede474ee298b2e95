package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestReplica_StreamsAndPromotes(t *testing.T) {
	primary := pgtest.New(t)
	primary.Exec(t, "postgres", "CREATE TABLE before_backup (x int)")
	replica := pgtest.New(t, pgtest.WithReplicaOf(primary))
	ctx := context.Background()
	inRecovery := func() bool {
		conn, err := pgx.Connect(ctx, replica.DSN("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var r bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if !inRecovery() {
		t.Fatal("a fresh replica is not in recovery")
	}
	primary.Exec(t, "postgres", "INSERT INTO before_backup VALUES (1)")
	streamed := func() bool {
		conn, err := pgx.Connect(ctx, replica.DSN("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM before_backup").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	deadline := time.Now().Add(10 * time.Second)
	for !streamed() {
		if time.Now().After(deadline) {
			t.Fatal("a row written on the primary never reached the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
	replica.Promote(t)
	if inRecovery() {
		t.Fatal("still in recovery after promotion")
	}
	replica.Exec(t, "postgres", "INSERT INTO before_backup VALUES (2)")
}
