//go:build !linux

package pgtest

func shmRoot() string { return "" }
