//go:build !linux

package benchkit

import "syscall"

// ChildAttr is nil: only Linux kills a child with its parent.
func ChildAttr() *syscall.SysProcAttr { return nil }
