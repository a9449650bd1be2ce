package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// An instruction is one Dockerfile instruction, its continuation lines
// joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// dockerfileInstructions reads a Dockerfile's instructions: comments and
// parser directives (# syntax=...) out, lines ending in \ joined.
func dockerfileInstructions(t *testing.T, data []byte) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Errorf("Dockerfile: the last instruction ends with a \\")
	}
	return out
}

var dockerInstructions = []string{"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
	"LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// TestDockerfile: the Dockerfile parses and builds what the examples run: a
// multi-stage build of static binaries (CGO_ENABLED=0) from cmd/, every
// binary of cmd/ in the image (reviewlens, and reviewlens-<step> links to
// it for every cmd/reviewlens-<step>), a base with CA certificates and no
// shell, a user that is not root, reviewlens as the entrypoint.
func TestDockerfile(t *testing.T) {
	r := root(t)
	data, err := os.ReadFile(filepath.Join(r, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins := dockerfileInstructions(t, data)
	var froms, users []instruction
	var entrypoint, final []instruction
	for i, in := range ins {
		if !slices.Contains(dockerInstructions, in.cmd) {
			t.Errorf("Dockerfile:%d: unknown instruction %s", in.line, in.cmd)
		}
		if in.cmd != "FROM" && in.cmd != "ARG" && len(froms) == 0 {
			t.Errorf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
		}
		switch in.cmd {
		case "FROM":
			froms = append(froms, in)
			final = ins[i:]
		case "USER":
			users = append(users, in)
		case "ENTRYPOINT":
			entrypoint = append(entrypoint, in)
		}
	}
	if len(froms) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and the image", len(froms))
	}
	base := strings.Fields(final[0].args)[0]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("Dockerfile: the image is FROM %s, want distroless static (CA certificates, /etc/passwd, no shell) or scratch", base)
	}
	build := ""
	for _, in := range ins[:len(ins)-len(final)] {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			build = in.args
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "./cmd/reviewlens") {
		t.Errorf("Dockerfile: want a build stage that runs CGO_ENABLED=0 go build ... ./cmd/reviewlens, got %q", build)
	}
	// Every binary of cmd/: reviewlens built, the others linked to it by a
	// loop over cmd/reviewlens-* (so that a new binary is in the image
	// without a change here), and TestBinariesAreSteps holds that a link
	// runs the binary's step.
	if !regexp.MustCompile(`-o (\S+)/reviewlens \./cmd/reviewlens\b`).MatchString(build) ||
		!regexp.MustCompile(`for (\w+) in reviewlens-\*; do ln -s reviewlens "?\S+/\$\{?\w+\}?"?; done`).MatchString(build) ||
		!strings.Contains(build, "cd cmd") {
		t.Errorf("Dockerfile: want reviewlens built and a link to it for every cmd/reviewlens-* (cd cmd && for step in reviewlens-*; do ln -s reviewlens ...; done), got %q", build)
	}
	copied := false
	for _, in := range final {
		if in.cmd == "COPY" && strings.Contains(in.args, "--from=") && strings.HasSuffix(in.args, "/usr/local/bin/") {
			copied = true
		}
	}
	if !copied {
		t.Errorf("Dockerfile: want the binaries copied from the build stage into /usr/local/bin/")
	}
	if len(users) == 0 {
		t.Errorf("Dockerfile: no USER: the image would run as root")
	} else {
		u := users[len(users)-1].args
		name, _, _ := strings.Cut(u, ":")
		if name == "root" || name == "0" || users[len(users)-1].line < final[0].line {
			t.Errorf("Dockerfile: USER %s: want a user that is not root, in the image's stage", u)
		}
	}
	if len(entrypoint) == 0 || !strings.Contains(entrypoint[len(entrypoint)-1].args, `"/usr/local/bin/reviewlens"`) {
		t.Errorf("Dockerfile: want ENTRYPOINT [\"/usr/local/bin/reviewlens\"] (exec form: no shell)")
	}
	ignore, err := os.ReadFile(filepath.Join(r, ".dockerignore"))
	if err != nil || !bytes.Contains(ignore, []byte(".git")) {
		t.Errorf(".dockerignore: want one that leaves .git out (%v)", err)
	}
}

// TestDockerBuild builds the image when docker is installed, runs a step's
// help through the entrypoint and through its link, and checks the image's
// user.
//
// A Docker engine is not a service make test can start on loopback, as it
// does moto_server and PostgreSQL (it needs a privileged daemon), so a
// machine without one skips the build and names the engine as what is
// missing; TestDockerfile has checked the file. A CI that has an engine
// sets REVIEWLENS_DOCKER=require, and then a missing or silent engine
// fails the test.
func TestDockerBuild(t *testing.T) {
	r := root(t)
	docker, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv("REVIEWLENS_DOCKER") == "require" {
			t.Fatal("REVIEWLENS_DOCKER=require, and docker is not on PATH")
		}
		t.Skip("docker is not installed (no Docker engine to build with): the Dockerfile was checked by TestDockerfile, not built")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, docker, "info").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("docker is installed but no Docker engine answers (docker info: %v)\n%s", err, lastLines(out, 3))
		if os.Getenv("REVIEWLENS_DOCKER") == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg + "\nthe Dockerfile was checked by TestDockerfile, not built")
	}
	tag := "reviewlens-test:" + strings.ToLower(t.Name())
	bctx, bcancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer bcancel()
	if out, err := exec.CommandContext(bctx, docker, "build", "-t", tag, r).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, lastLines(out, 40))
	}
	defer exec.Command(docker, "rmi", "-f", tag).Run()
	// A step through the entrypoint, and one through its link.
	for _, run := range [][]string{
		{"run", "--rm", tag, "stage", "--help"},
		{"run", "--rm", "--entrypoint", "/usr/local/bin/reviewlens-transform", tag, "--help"},
	} {
		out, err := exec.CommandContext(bctx, docker, run...).CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--xcom")) {
			t.Errorf("docker %s: %v\n%s", strings.Join(run, " "), err, lastLines(out, 20))
		}
	}
	uid, err := exec.CommandContext(bctx, docker, "image", "inspect", "-f", "{{.Config.User}}", tag).Output()
	if err != nil || strings.TrimSpace(string(uid)) == "" || strings.HasPrefix(string(uid), "0") || strings.HasPrefix(string(uid), "root") {
		t.Errorf("the image's user is %q (%v): want one that is not root", uid, err)
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
