package pgtest

// Start starts a cluster outside of a test, for development tools such as
// `make run`; Close stops and removes it. If the process dies first, the
// same watchdog that guards test clusters stops it.
func Start(opts ...Option) (*Cluster, error) { return startCluster(opts) }

// Close stops the cluster (immediate mode) and removes its directory; the
// watchdog stops with the process's last cluster.
func (c *Cluster) Close() error {
	err := c.destroy()
	regMu.Lock()
	last := len(clusters) == 0
	regMu.Unlock()
	if last {
		stopWatchdog()
	}
	return err
}
