# pint (github.com/cloudflare/pint), the Prometheus rule linter. From the
# repository's top directory:
#
#   pint lint alerts/ deploy/kubernetes/
#
# Patterns are regular expressions that pint anchors (^...$) and matches
# against the paths as given on its command line, so run it with these
# relative paths. deploy/pint_test.go checks this file against the files it
# is about.
parser {
  # The rule files, and the PrometheusRule generated from them (make
  # manifests). Nothing else there is a rule file: the other manifests and
  # README.md under deploy/kubernetes would stop pint with parse errors.
  # The Helm chart's files/dbhealth.rules.yml is a verbatim copy of
  # alerts/dbhealth.rules.yml (a test keeps it so) and is not linted twice.
  include = [
    "alerts/[^/]+\\.ya?ml",
    "deploy/kubernetes/prometheusrule\\.yaml",
  ]

  # promtool's unit tests (promtool test rules) sit beside the rules they
  # test; they are not rule files.
  exclude = [
    "alerts/[^/]+_test\\.ya?ml",
  ]

  # A PrometheusRule holds the rules under spec:, not at the top level:
  # relaxed mode finds them anywhere in the file.
  relaxed = [
    "deploy/kubernetes/prometheusrule\\.yaml",
  ]
}

ci {
  baseBranch = "main"
}
