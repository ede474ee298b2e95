//go:build !linux

package pgtest

// removeStaleShm is only implemented on Linux; elsewhere a SIGKILLed
// postmaster's (tiny) System V segment is left to the next start.
func removeStaleShm(key, id int64) {}
