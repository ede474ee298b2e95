package exporter

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file caught between its truncation and its rewrite is not a change
// yet: the watcher waits for content that holds for the settling time.
func TestChangedAndSettled_WaitsOutAWriteInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dbhealth.yml")
	if err := os.WriteFile(path, []byte("checks: {a: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []string{path}
	seen := contents(files)
	ctx := context.Background()
	if got := changedAndSettled(ctx, files, seen); got != unchanged {
		t.Fatalf("untouched: %v", got)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0) // truncated: empty now
	if err != nil {
		t.Fatal(err)
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		time.Sleep(settle / 2) // written while the watcher waits
		_, _ = f.WriteString("checks: {a: 2}\n")
		f.Close()
	}()
	if got := changedAndSettled(ctx, files, seen); got != unsettled {
		t.Fatalf("read between truncation and rewrite: %v, want unsettled", got)
	}
	<-written
	if got := changedAndSettled(ctx, files, seen); got != settled {
		t.Fatalf("rewritten and left alone: %v, want settled", got)
	}
}
