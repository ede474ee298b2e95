package pgtest

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// Main runs a package's tests and afterwards stops every cluster this
// process started (including the shared one) and removes their directories.
// Before running the tests it removes clusters left behind by test processes
// that died (for example killed by `go test -timeout`).
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	if in, err := getInstall(); err == nil {
		cleanupOrphans(in)
	}
	code := m.Run()
	stopAll()
	stopWatchdog()
	return code
}

// registry of this process's clusters.
var (
	regMu    sync.Mutex
	clusters = map[*Cluster]struct{}{}
)

func register(c *Cluster) {
	regMu.Lock()
	defer regMu.Unlock()
	clusters[c] = struct{}{}
}

func unregister(c *Cluster) {
	regMu.Lock()
	defer regMu.Unlock()
	delete(clusters, c)
}

// setPort gives c its port under the registry's lock, which portReserved
// reads (other tests start clusters concurrently).
func setPort(c *Cluster, port int) {
	regMu.Lock()
	defer regMu.Unlock()
	c.port = port
}

// portReserved reports whether one of our clusters (running or stopped) owns port.
func portReserved(port int) bool {
	regMu.Lock()
	defer regMu.Unlock()
	for c := range clusters {
		if c.port == port {
			return true
		}
	}
	return false
}

// stopAll destroys every cluster of this process.
func stopAll() {
	regMu.Lock()
	all := make([]*Cluster, 0, len(clusters))
	for c := range clusters {
		all = append(all, c)
	}
	regMu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.destroy(); err != nil {
				fmt.Fprintf(os.Stderr, "pgtest: removing cluster %s: %v\n", c.base, err)
			}
		}()
	}
	wg.Wait()
	sharedMu.Lock()
	shared, sharedErr = nil, nil
	sharedMu.Unlock()
}
