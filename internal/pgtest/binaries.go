package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// installHint is the message every "cannot find PostgreSQL" failure starts with.
const installHint = "PostgreSQL server binaries not found: install them with `apt-get install -y postgresql` or set PG_BINDIR"

// serverBinaries are the programs the harness needs from the bin directory.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// install describes the PostgreSQL installation used by the harness and the
// user its programs run as.
type install struct {
	binDir string
	major  string // "15"
	runAs  *osUser
}

// osUser is the account PostgreSQL programs are run as when we are root
// (initdb, pg_ctl and postgres refuse to run as root).
type osUser struct {
	name     string
	uid, gid int
}

var (
	installOnce sync.Once
	theInstall  *install
	installErr  error
)

// getInstall locates the PostgreSQL server binaries once per process.
func getInstall() (*install, error) {
	installOnce.Do(func() {
		theInstall, installErr = findInstall(os.Getenv)
	})
	return theInstall, installErr
}

// findInstall locates the server binaries: $PG_BINDIR if set, else
// `pg_config --bindir`, else the usual distribution locations, else $PATH.
func findInstall(getenv func(string) string) (*install, error) {
	binDir, err := findBinDir(getenv)
	if err != nil {
		return nil, err
	}
	major, err := serverMajor(binDir)
	if err != nil {
		return nil, err
	}
	in := &install{binDir: binDir, major: major}
	if os.Geteuid() == 0 {
		u, err := lookupUser("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, but PostgreSQL refuses to run as root and there is no `postgres` user to run it as "+
				"(install the server with `apt-get install -y postgresql`, which creates that user, or run the tests as a non-root user): %v", err)
		}
		in.runAs = u
	}
	return in, nil
}

func findBinDir(getenv func(string) string) (string, error) {
	if dir := getenv("PG_BINDIR"); dir != "" {
		if missing := missingBinaries(dir); len(missing) > 0 {
			return "", fmt.Errorf("%s (PG_BINDIR=%q lacks %s)", installHint, dir, strings.Join(missing, ", "))
		}
		return dir, nil
	}
	var tried []string
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, pgConfig, "--bindir").Output()
		cancel()
		if err == nil {
			dir := strings.TrimSpace(string(out))
			if len(missingBinaries(dir)) == 0 {
				return dir, nil
			}
			tried = append(tried, dir+" (from pg_config --bindir)")
		}
	}
	var candidates []string
	for _, pattern := range []string{
		"/usr/lib/postgresql/*/bin", // Debian, Ubuntu
		"/usr/pgsql-*/bin",          // RHEL (PGDG)
		"/usr/local/opt/postgresql@*/bin",
		"/opt/homebrew/opt/postgresql@*/bin",
	} {
		m, _ := filepath.Glob(pattern)
		sortByVersionDesc(m)
		candidates = append(candidates, m...)
	}
	candidates = append(candidates, "/usr/local/pgsql/bin")
	for _, dir := range candidates {
		if len(missingBinaries(dir)) == 0 {
			return dir, nil
		}
	}
	tried = append(tried, "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if len(missingBinaries(dir)) == 0 {
			return dir, nil
		}
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("%s (looked for %s in %s)", installHint, strings.Join(serverBinaries, ", "), strings.Join(tried, ", "))
}

func missingBinaries(dir string) []string {
	var missing []string
	for _, b := range serverBinaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	return missing
}

var versionNumRE = regexp.MustCompile(`\d+`)

// sortByVersionDesc sorts paths such as /usr/lib/postgresql/15/bin by the
// first number in them, highest first.
func sortByVersionDesc(paths []string) {
	num := func(s string) int {
		n, _ := strconv.Atoi(versionNumRE.FindString(s))
		return n
	}
	sort.SliceStable(paths, func(i, j int) bool { return num(paths[i]) > num(paths[j]) })
}

var serverVersionRE = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?`)

// serverMajor returns the major version ("15", or "9.6" for old servers) of
// the postgres binary in binDir. `postgres --version` works even as root.
func serverMajor(binDir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s (running %s --version: %v)", installHint, filepath.Join(binDir, "postgres"), err)
	}
	m := serverVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return "", fmt.Errorf("cannot parse PostgreSQL version from %q", strings.TrimSpace(string(out)))
	}
	if n, _ := strconv.Atoi(m[1]); n < 10 && m[2] != "" {
		return m[1] + "." + m[2], nil
	}
	return m[1], nil
}

func lookupUser(name string) (*osUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q: %v", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q: %v", name, u.Gid, err)
	}
	return &osUser{name: name, uid: uid, gid: gid}, nil
}

// ownerUID is the uid that owns data directories.
func (in *install) ownerUID() int {
	if in.runAs != nil {
		return in.runAs.uid
	}
	return os.Geteuid()
}

// chown hands path to the user PostgreSQL runs as (no-op when not root).
func (in *install) chown(path string) error {
	if in.runAs == nil {
		return nil
	}
	return os.Lchown(path, in.runAs.uid, in.runAs.gid)
}

// writeFile writes a file readable by the PostgreSQL user and owned by it.
func (in *install) writeFile(path string, data []byte, perm os.FileMode) error {
	if err := os.WriteFile(path, data, perm); err != nil {
		return err
	}
	return in.chown(path)
}

// run runs one of the PostgreSQL programs as the right user with dir as its
// working directory and returns its combined output.
//
// Output is collected in memory; WaitDelay guarantees that a daemonized
// postmaster that inherited the pipes (pg_ctl start without -l) cannot make
// us hang.
func (in *install) run(timeout time.Duration, dir, program string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(in.binDir, program), args...)
	cmd.Dir = dir
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 2 * time.Second
	if in.runAs != nil {
		// Equivalent to `runuser -u postgres -- program args...`, without
		// depending on util-linux or PAM.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{
			Uid:    uint32(in.runAs.uid),
			Gid:    uint32(in.runAs.gid),
			Groups: []uint32{},
		}}
	}
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%v (timed out after %v)", err, timeout)
	}
	return out.String(), err
}
