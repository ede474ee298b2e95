package web

import (
	"syscall"
	"testing"
)

func TestMaxConnections_ReservesDescriptorsForTheChecks(t *testing.T) {
	for _, tc := range []struct {
		fileLimit uint64
		want      int
	}{
		{0, minConnections}, // unknown: the floor
		{100, minConnections},
		{ReservedFiles + minConnections, minConnections},
		{600, 600 - ReservedFiles},
		{1024, DefaultMaxConnections}, // the limit: 896 would be allowed
		{1024 * 1024, DefaultMaxConnections},
		{DefaultMaxConnections + ReservedFiles, DefaultMaxConnections},
	} {
		if got := MaxConnections(tc.fileLimit); got != tc.want {
			t.Errorf("MaxConnections(%d) = %d, want %d", tc.fileLimit, got, tc.want)
		}
	}
}

// The Go runtime raises the soft descriptor limit to (one below) the hard
// limit when a process starts; MaxConnections relies on reading the raised
// value, not the soft limit a shell may have left at 1,024.
func TestFileLimit_IsTheRaisedSoftLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	got, ok := FileLimit()
	if !ok || got != uint64(lim.Cur) || lim.Cur+1 < lim.Max {
		t.Errorf("FileLimit() = %d, %v; soft %d, hard %d", got, ok, lim.Cur, lim.Max)
	}
}
