package benchkit

import "syscall"

// ChildAttr makes a child die with the driver, should the driver be
// killed before it can stop it.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
