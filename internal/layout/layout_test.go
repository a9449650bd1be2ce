// Package layout holds tests of the design's rules about which package
// may import what (../shared/DESIGN.md, STYLE.md "Dependencies point one
// way"). They run `go list`, so they see what the build sees.
package layout

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/reviewlens/reviewlens"

// deps lists the packages pkg imports, directly or not.
func deps(tb testing.TB, pkgs ...string) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, p := range pkgs {
		cmd := exec.Command("go", "list", "-deps", module+"/"+p)
		cmd.Dir = "../.."
		b, err := cmd.Output()
		if err != nil {
			tb.Fatalf("go list -deps %s: %v", p, err)
		}
		out[p] = strings.Fields(string(b))
	}
	return out
}

// TestDomainPackagesNeedNoAWS: the domain packages (and what they take,
// storage) import no AWS SDK at all: a Go program can use them with any
// bucket, and they build fast.
func TestDomainPackagesNeedNoAWS(t *testing.T) {
	for pkg, list := range deps(t, "manifest", "credit", "inspect", "storage", "table", "fault", "progress") {
		for _, d := range list {
			if strings.HasPrefix(d, "github.com/aws/aws-sdk-go-v2") {
				t.Errorf("%s imports %s: only sagemaker/..., storage/s3 and the commands may use the AWS SDK", pkg, d)
				break
			}
		}
	}
}

// TestOnlySageMakerImportsItsSDK: the SageMaker SDK package, very large
// and slow to compile, is imported by package sagemaker and its
// subpackages only.
func TestOnlySageMakerImportsItsSDK(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	cmd.Dir = "../.."
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const sdk = "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		pkg := f[0]
		for _, imp := range f[1:] {
			if imp != sdk && !strings.HasPrefix(imp, sdk+"/") {
				continue
			}
			if pkg != module+"/sagemaker" && !strings.HasPrefix(pkg, module+"/sagemaker/") {
				t.Errorf("%s imports %s: only sagemaker/... may", pkg, imp)
			}
		}
	}
}

// TestExampleUsesThePublicAPI: examples/go, the program a Go user would
// write, imports nothing internal.
func TestExampleUsesThePublicAPI(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./examples/go")
	cmd.Dir = "../.."
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(b)) {
		if strings.Contains(imp, "/internal/") {
			t.Errorf("examples/go imports %s: a Go program outside the module could not", imp)
		}
	}
}

// TestNoInternalTypeExported: nothing a public package exports mentions a
// type of an internal package, which a program outside the module could
// not name (go doc -all shows every exported declaration).
func TestNoInternalTypeExported(t *testing.T) {
	list := func(pattern string) []string {
		cmd := exec.Command("go", "list", pattern)
		cmd.Dir = "../.."
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pattern, err)
		}
		return strings.Fields(string(b))
	}
	var internalNames []string
	for _, p := range list("./internal/...") {
		internalNames = append(internalNames, p[strings.LastIndex(p, "/")+1:])
	}
	qualified := regexp.MustCompile(`\b(` + strings.Join(internalNames, "|") + `)\.[A-Z]\w*`)
	checked := 0
	for _, p := range list("./...") {
		rel := strings.TrimPrefix(p, module+"/")
		if p == module || strings.Contains(p, "/internal/") || strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "bench/") || strings.HasPrefix(rel, "examples/") {
			continue
		}
		cmd := exec.Command("go", "doc", "-all", p)
		cmd.Dir = "../.."
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("go doc -all %s: %v", p, err)
		}
		checked++
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "    ") {
				continue // prose and examples, not declarations
			}
			decl, _, _ := strings.Cut(line, "//")
			if m := qualified.FindString(decl); m != "" {
				t.Errorf("%s exports %q, which names the internal %s", rel, strings.TrimSpace(line), m)
			}
		}
	}
	if checked < 8 {
		t.Errorf("checked %d public packages, want all of them", checked)
	}
}
