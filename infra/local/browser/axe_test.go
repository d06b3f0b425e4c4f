package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe holds axe-core's script for the accessibility checks of a test.
type axe struct{ script string }

// loadAxe reads axe-core's script. Under make test AXE_CORE names it (make webcheck-tools
// installs it), and a test fails without it; elsewhere the test takes the copy make
// installed in .tools, or skips when there is none.
func loadAxe(t *testing.T) *axe {
	t.Helper()
	path := os.Getenv("AXE_CORE")
	if path == "" {
		if os.Getenv("CHROMIUM") != "" {
			t.Fatal("CHROMIUM is set but AXE_CORE is not: the accessibility checks need axe-core (make test sets both)")
		}
		root, err := filepath.Abs("../../..")
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, ".tools", "webcheck", "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(path); err != nil {
			t.Skip("no axe-core for the accessibility checks: set AXE_CORE or run make test, which installs it")
		}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("AXE_CORE=%s: %v (make webcheck-tools installs it)", path, err)
	}
	return &axe{script: string(src)}
}

// violation is one rule axe-core finds broken, with the nodes that break it.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// accessible runs axe-core on the page as it is and fails the test on every serious or
// critical violation. The script goes in through the DevTools protocol, which the page's
// Content-Security-Policy does not govern; it is injected again after each navigation.
func (a *axe) check(t *testing.T, ctx context.Context, screen string) {
	t.Helper()
	for _, v := range a.violations(t, ctx, screen) {
		if v.Impact != "serious" && v.Impact != "critical" {
			t.Logf("the %s screen: axe-core rule %s (%s): %s", screen, v.ID, v.Impact, v.Help)
			continue
		}
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, n.Target+": "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		t.Errorf("the %s screen breaks axe-core rule %s (%s): %s\n\t%s", screen, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n\t"))
	}
}

// violations is what axe-core finds on the page, at every impact.
func (a *axe) violations(t *testing.T, ctx context.Context, screen string) []violation {
	t.Helper()
	if !run(t, ctx, "axe-core present", chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		run(t, ctx, "inject axe-core", chromedp.Evaluate[bool](a.script+"\n;typeof window.axe === \"object\""))
	}
	found := run(t, ctx, "run axe-core on the "+screen+" screen", chromedp.Evaluate[[]violation](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		nodes: v.nodes.map(n => ({target: JSON.stringify(n.target), summary: n.failureSummary || ""})),
	})))`, chromedp.EvalAwaitPromise))
	return found
}

// The check sees what it is there for, under the console's policy: on the sign-in page, an
// image without a text alternative and a field without a label.
func TestAxeFindsViolations(t *testing.T) {
	axe := loadAxe(t)
	ctx := browse(t)
	s := start(t)
	open(t, ctx, s.URL+"/signin")
	waitSel(t, ctx, `button[data-nic="`+admin+`"]`)
	run(t, ctx, "break the page", chromedp.Evaluate[bool](`(() => {
		const main = document.getElementById("main");
		main.append(document.createElement("img"), document.createElement("input"));
		return true;
	})()`))
	impacts := map[string]string{}
	for _, v := range axe.violations(t, ctx, "broken sign-in") {
		impacts[v.ID] = v.Impact
		for _, n := range v.Nodes {
			if v.ID == "image-alt" && !strings.Contains(n.Target, "img") {
				t.Errorf("image-alt names %s, want the image", n.Target)
			}
		}
	}
	for rule, impact := range map[string]string{"image-alt": "critical", "label": "critical"} {
		if impacts[rule] != impact {
			t.Errorf("axe-core reports rule %s as %q, want %q; it reports %v", rule, impacts[rule], impact, impacts)
		}
	}
}
