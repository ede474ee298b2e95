package main

import "syscall"

// childAttr makes a child die with the harness, should the harness be
// killed before it can stop them.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
