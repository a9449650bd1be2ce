package examples_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/consolidatecmd"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/internal/democmd"
	"github.com/reviewlens/reviewlens/internal/labelscmd"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/monitorcmd"
	"github.com/reviewlens/reviewlens/internal/predictionscmd"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/resolvecmd"
	"github.com/reviewlens/reviewlens/internal/runcmd"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
)

// knownSteps are the cli.Step values of internal/*cmd, by the expression
// cmd/*/main.go names them with. A main that names one missing here fails
// TestBinariesAreSteps: add it.
var knownSteps = map[string]cli.Step{
	"consolidatecmd.Step":     consolidatecmd.Step,
	"manifestcmd.Step":        manifestcmd.Step,
	"tunecmd.Step":            tunecmd.Step,
	"stagecmd.Step":           stagecmd.Step,
	"transformcmd.Step":       transformcmd.Step,
	"predictionscmd.Step":     predictionscmd.Step,
	"creditcmd.CalibrateStep": creditcmd.CalibrateStep,
	"creditcmd.CreditStep":    creditcmd.CreditStep,
	"publishcmd.PublishStep":  publishcmd.PublishStep,
	"publishcmd.QueueStep":    publishcmd.QueueStep,
	"resolvecmd.Step":         resolvecmd.Step,
	"monitorcmd.Step":         monitorcmd.Step,
	"labelscmd.Step":          labelscmd.Step,
	"democmd.Step":            democmd.Step,
	"runcmd.Step":             runcmd.Step,
}

// root is the module's root folder.
func root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// binaries returns what cmd/*/main.go run: for each binary (folder name),
// the steps its main passes to cli.SingleApp or cli.Command, in order.
func binaries(tb testing.TB) map[string][]string {
	tb.Helper()
	mains, err := filepath.Glob(filepath.Join(root(tb), "cmd", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		tb.Fatalf("no cmd/*/main.go: %v", err)
	}
	out := map[string][]string{}
	for _, m := range mains {
		f, err := parser.ParseFile(token.NewFileSet(), m, nil, parser.SkipObjectResolution)
		if err != nil {
			tb.Fatal(err)
		}
		bin := filepath.Base(filepath.Dir(m))
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			fn, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (fn.Sel.Name != "SingleApp" && fn.Sel.Name != "Command") {
				return true
			}
			if x, ok := fn.X.(*ast.Ident); !ok || x.Name != "cli" {
				return true
			}
			arg, ok := call.Args[0].(*ast.SelectorExpr)
			if !ok {
				tb.Errorf("%s: cli.%s of %T: want pkg.Step", m, fn.Sel.Name, call.Args[0])
				return true
			}
			out[bin] = append(out[bin], arg.X.(*ast.Ident).Name+"."+arg.Sel.Name)
			return true
		})
	}
	return out
}

// stepFlags returns every step of the binaries by name, with the names of
// its flags (the common ones included).
func stepFlags(tb testing.TB) map[string]map[string]bool {
	tb.Helper()
	out := map[string]map[string]bool{}
	for _, exprs := range binaries(tb) {
		for _, e := range exprs {
			s, ok := knownSteps[e]
			if !ok {
				tb.Fatalf("cmd names the step %s, which knownSteps lacks: add it", e)
			}
			flags := map[string]bool{}
			for _, f := range cli.Command(s).Flags {
				for _, n := range f.Names() {
					flags[n] = true
				}
			}
			out[s.Name] = flags
		}
	}
	return out
}

// TestBinariesAreSteps: every cmd/reviewlens-<step> runs the step <step>,
// and so does `reviewlens <step>`: the image's reviewlens-<step> links to
// reviewlens run what the binary of the name would.
func TestBinariesAreSteps(t *testing.T) {
	bins := binaries(t)
	multi := bins["reviewlens"]
	if len(multi) == 0 {
		t.Fatal("cmd/reviewlens runs no step")
	}
	for bin, exprs := range bins {
		if bin == "reviewlens" {
			continue
		}
		name, ok := strings.CutPrefix(bin, "reviewlens-")
		if !ok || len(exprs) != 1 {
			t.Errorf("cmd/%s: want a reviewlens-<step> folder whose main runs one step, got %q", bin, exprs)
			continue
		}
		s, ok := knownSteps[exprs[0]]
		switch {
		case !ok:
			t.Errorf("cmd/%s runs %s, which knownSteps lacks: add it", bin, exprs[0])
		case s.Name != name:
			t.Errorf("cmd/%s runs the step %q", bin, s.Name)
		case !slices.Contains(multi, exprs[0]):
			t.Errorf("cmd/%s runs %s, which reviewlens lacks: the image's link reviewlens-%s would not find it", bin, exprs[0], name)
		}
	}
}
