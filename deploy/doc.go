// Package deploy holds no code of its own: its tests check the Kubernetes
// manifests in kubernetes/ and the Helm chart in helm/dbhealth-exporter
// against the exporter's contract (docs/endpoints.md).
//
// Every YAML document is decoded strictly (an unknown, duplicate or
// wrongly-cased field is an error) into the k8s.io/api types, or into the
// part of the Prometheus operator's ServiceMonitor and PrometheusRule that
// these manifests use. Then the tests check what a cluster would only show
// at run time: that every probe asks an endpoint the exporter serves, with
// liveness on a liveness path and readiness on a readiness path, on a port
// the kubelet can resolve; that Services and the ServiceMonitor find their
// pods and ports; that the exporter runs as non-root on a read-only root
// filesystem with resources set, reads its connection string from a mounted
// Secret, and gets a termination grace period longer than its drain; that
// every other container of its pod is hardened the same way, that no pod
// mounts a service account token, and that more than one replica is spread
// over nodes. In fleet mode (a StatefulSet of shards), that each pod finds
// its own shard, that the targets of the configuration file take their
// credentials from mounted Secrets, and that a PodMonitor scrapes every
// shard once under a job the alerts watch.
//
// The tests also check the repository's .pint.hcl (the configuration of
// pint, the Prometheus rule linter, which is not run here) against the
// rule files, the promtool tests and the PrometheusRule it is about.
//
// The chart is checked through the real helm binary (helm lint, helm
// template); the tests fail, never skip, when it is missing. The fleet
// configuration it renders is checked by the real exporter, built from
// the repository (--config.check).
//
// This is a module of its own, so that k8s.io/api stays out of the
// exporter's dependencies. Run it with
//
//	cd deploy && go test ./...
package deploy
