//go:build !unix

package web

func fileLimit() (uint64, bool) { return 0, false }
