package pgtest

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The watchdog is a shell process that outlives this one: it waits for EOF
// on a pipe whose write end only this process holds, which happens when
// this process exits for whatever reason (including a panic from `go test
// -timeout`, os.Exit, or SIGKILL). It then stops (immediate mode, i.e.
// SIGQUIT) the postmasters of the harness directories this process owns and
// removes them. Main closes the pipe after removing its clusters itself, so
// normally the watchdog finds nothing to do. It runs in its own process
// group so that ^C in a terminal does not kill it together with the tests.
const watchdogScript = `
owner=$1 root=$2
cat >/dev/null
for d in "$root"/` + runPrefix + `* "$root"/` + tmpPrefix + `*; do
	[ -f "$d/` + ownerFile + `" ] || continue
	read p rest < "$d/` + ownerFile + `" || continue
	[ "$p" = "$owner" ] || continue
	if [ -f "$d/data/postmaster.pid" ]; then
		read pm < "$d/data/postmaster.pid"
		kill -QUIT "$pm" 2>/dev/null
		i=0
		while [ -f "$d/data/postmaster.pid" ] && kill -0 "$pm" 2>/dev/null && [ $i -lt 100 ]; do
			if [ -r "/proc/$pm/stat" ]; then
				case $(cut -d' ' -f3 "/proc/$pm/stat") in Z|X) break;; esac
			fi
			sleep 0.1
			i=$((i+1))
		done
		kill -KILL "$pm" 2>/dev/null
	fi
	rm -rf "$d"
done
`

var (
	watchdogOnce sync.Once
	watchdogPipe *os.File
	watchdogDone chan struct{}
)

func startWatchdog(in *install) {
	watchdogOnce.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			return
		}
		defer r.Close()
		cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog", strconv.Itoa(os.Getpid()), tempRoot(in))
		cmd.Stdin = r
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			w.Close()
			return
		}
		watchdogPipe = w
		watchdogDone = make(chan struct{})
		go func() {
			cmd.Wait()
			close(watchdogDone)
		}()
	})
}

// stopWatchdog lets the watchdog exit (it finds nothing left to clean).
func stopWatchdog() {
	watchdogOnce.Do(func() {}) // synchronize with startWatchdog; none is started after this
	if watchdogPipe == nil {
		return
	}
	watchdogPipe.Close()
	select {
	case <-watchdogDone:
	case <-time.After(2 * time.Second):
	}
}
