package deploy

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// pint (github.com/cloudflare/pint) lints the Prometheus rules; it is not
// run here (nothing in CI can fetch it), but its configuration is checked
// against the files it is about, the way pint applies it.
const (
	pintConfig = "../.pint.hcl"
	alertsDir  = "../alerts"
)

// pintParser is the parser block of .pint.hcl: regular expressions that
// pint anchors (^...$) and matches against paths as given to `pint lint`
// from the repository's top directory.
type pintParser struct {
	include, exclude, relaxed []*regexp.Regexp
}

// allowed is pint's PathFilter.IsPathAllowed: an exclude pattern wins,
// then an include pattern, and without include patterns every path.
func (pp pintParser) allowed(p string) bool {
	match := func(res []*regexp.Regexp) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(p) })
	}
	if match(pp.exclude) {
		return false
	}
	return len(pp.include) == 0 || match(pp.include)
}

func (pp pintParser) isRelaxed(p string) bool {
	return slices.ContainsFunc(pp.relaxed, func(re *regexp.Regexp) bool { return re.MatchString(p) })
}

var (
	hclListStart = regexp.MustCompile(`\b(include|exclude|relaxed)\s*=\s*\[`)
	hclString    = regexp.MustCompile(`^"(?:[^"\\]|\\.)*"`)
)

// hclStrings reads the quoted strings of a list up to its closing bracket
// (brackets inside the strings, as in [^/], are the patterns' own).
func hclStrings(s string) (list []string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t\n,")
		switch {
		case strings.HasPrefix(s, "]"):
			return list, true
		case strings.HasPrefix(s, `"`):
			q := hclString.FindString(s)
			if q == "" {
				return nil, false
			}
			u, err := strconv.Unquote(q)
			if err != nil {
				return nil, false
			}
			list = append(list, u)
			s = s[len(q):]
		default:
			return nil, false
		}
	}
}

// readPintParser reads the string lists of the parser block. It knows only
// the small part of HCL the file uses: # comments on lines of their own,
// and lists of double-quoted strings.
func readPintParser(t *testing.T) pintParser {
	t.Helper()
	data, err := os.ReadFile(pintConfig)
	if err != nil {
		t.Fatalf("%v: the repository's top directory needs a .pint.hcl", err)
	}
	var body bytes.Buffer
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		if line := strings.TrimSpace(scanner.Text()); !strings.HasPrefix(line, "#") {
			body.WriteString(line + "\n")
		}
	}
	text := body.String()
	start := regexp.MustCompile(`(?m)^parser\s*\{`).FindStringIndex(text)
	if start == nil {
		t.Fatalf("%s: no parser block", pintConfig)
	}
	block, _, ok := strings.Cut(text[start[1]:], "\n}\n")
	if !ok {
		t.Fatalf("%s: the parser block does not end with a } line", pintConfig)
	}
	var pp pintParser
	lists := map[string]*[]*regexp.Regexp{"include": &pp.include, "exclude": &pp.exclude, "relaxed": &pp.relaxed}
	for _, m := range hclListStart.FindAllStringSubmatchIndex(block, -1) {
		name := block[m[2]:m[3]]
		patterns, ok := hclStrings(block[m[1]:])
		if !ok {
			t.Fatalf("%s: %s: want a list of double-quoted strings", pintConfig, name)
		}
		for _, pattern := range patterns {
			re, err := regexp.Compile("^" + pattern + "$")
			if err != nil {
				t.Fatalf("%s: %s: %v", pintConfig, name, err)
			}
			*lists[name] = append(*lists[name], re)
		}
	}
	if len(pp.include) == 0 || len(pp.exclude) == 0 || len(pp.relaxed) == 0 {
		t.Fatalf("%s: the parser block wants include, exclude and relaxed patterns", pintConfig)
	}
	return pp
}

// topLevelKeys returns the keys of a YAML mapping document.
func topLevelKeys(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	return keys
}

// `pint lint alerts/`: every rule file strictly, never a promtool test
// file (whose rule_files and tests keys stop pint's parser).
func TestPintConfig_LintsEveryRuleFileAndNoPromtoolTest(t *testing.T) {
	pp := readPintParser(t)
	entries, err := os.ReadDir(alertsDir)
	if err != nil {
		t.Fatal(err)
	}
	rules := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yml") && !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		p := path.Join("alerts", e.Name()) // as pint names it
		keys := topLevelKeys(t, filepath.Join(alertsDir, e.Name()))
		switch {
		case slices.Contains(keys, "rule_files") || slices.Contains(keys, "tests"):
			if pp.allowed(p) {
				t.Errorf("%s is a promtool test file, which pint cannot parse: add it to the parser's exclude patterns in .pint.hcl", p)
			}
		case slices.Contains(keys, "groups"):
			rules++
			if !pp.allowed(p) {
				t.Errorf("%s holds rules but .pint.hcl keeps pint away from it", p)
			}
			if pp.isRelaxed(p) {
				t.Errorf("%s is a plain rules file: .pint.hcl should not parse it in relaxed mode", p)
			}
		default:
			t.Errorf("%s: neither a rules file (groups) nor a promtool test file (rule_files, tests): %v", p, keys)
		}
	}
	if rules == 0 {
		t.Errorf("no rules file in %s", alertsDir)
	}
}

// `pint lint deploy/`: the generated PrometheusRule in relaxed mode (its
// rules sit under spec:), nothing else (manifests, the chart's templates,
// and the chart's copy of the rules, which alerts/ already covers).
func TestPintConfig_ReadsThePrometheusRuleRelaxedAndNothingElseInDeploy(t *testing.T) {
	pp := readPintParser(t)
	rule := path.Join("deploy", manifestsDir, "prometheusrule.yaml")
	found := false
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		p = path.Join("deploy", filepath.ToSlash(p))
		switch {
		case p == rule:
			found = true
			if !pp.allowed(p) || !pp.isRelaxed(p) {
				t.Errorf("%s: want it linted in relaxed mode (allowed %v, relaxed %v)", p, pp.allowed(p), pp.isRelaxed(p))
			}
		case pp.allowed(p):
			t.Errorf("%s: .pint.hcl lets pint read it, and it holds no rules of its own", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("%s not found", rule)
	}
	objs, err := decodeFile(filepath.Join(manifestsDir, "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || kindOf(objs[0]) != "PrometheusRule/dbhealth-exporter" {
		t.Errorf("%s: want one PrometheusRule", rule)
	}
}
