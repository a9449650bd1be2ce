package examples_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/reviewlens/reviewlens/internal/cli"
)

// A use is one reviewlens command line found in an example: the step it
// runs and the flags it gives.
type use struct {
	where string // file:line
	step  string
	flags []string
}

// flagName returns the name of a command-line token that is a flag
// ("--day" or "--day=2026-11-28" is "day"), or "".
func flagName(tok string) string {
	name, ok := strings.CutPrefix(tok, "--")
	if !ok || name == "" {
		return ""
	}
	name, _, _ = strings.Cut(name, "=")
	return name
}

// commandUses finds the reviewlens command lines among tokens (a shell
// command, a container's command and args). A command starts the tokens or
// follows |, &&, || or ;, after VAR=value assignments and `go run`; it runs
// a step when its program's last path element is reviewlens followed by
// the step, or reviewlens-<step>. The flags are the --tokens after it, up
// to the end of the command.
func commandUses(where string, tokens []string) []use {
	var out []use
	for len(tokens) > 0 {
		end := slices.IndexFunc(tokens, func(s string) bool { return slices.Contains([]string{"|", "&&", "||", ";", "&"}, s) })
		if end < 0 {
			end = len(tokens)
		}
		cmd := tokens[:end]
		tokens = tokens[min(end+1, len(tokens)):]
		for len(cmd) > 0 && strings.Contains(cmd[0], "=") && !strings.HasPrefix(cmd[0], "-") {
			cmd = cmd[1:]
		}
		if len(cmd) > 1 && cmd[0] == "go" && cmd[1] == "run" {
			cmd = cmd[2:]
			for len(cmd) > 0 && strings.HasPrefix(cmd[0], "-") {
				cmd = cmd[1:]
			}
		}
		if len(cmd) == 0 {
			continue
		}
		base := filepath.Base(cmd[0])
		var u use
		switch {
		case base == "reviewlens" && len(cmd) > 1 && !strings.HasPrefix(cmd[1], "-"):
			u = use{where: where, step: cmd[1]}
			cmd = cmd[2:]
		case strings.HasPrefix(base, "reviewlens-"):
			u = use{where: where, step: strings.TrimPrefix(base, "reviewlens-")}
			cmd = cmd[1:]
		default:
			continue
		}
		for _, tok := range cmd {
			if n := flagName(tok); n != "" {
				u.flags = append(u.flags, n)
			}
		}
		out = append(out, u)
	}
	return out
}

// markdownUses reads the command lines of a Markdown file's code blocks
// (fenced, or indented four spaces), joining lines continued with "\".
func markdownUses(t *testing.T, file string) []use {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(root(t), file)
	var out []use
	fenced := false
	var cmd strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
			continue
		}
		if !fenced && !strings.HasPrefix(line, "    ") {
			continue
		}
		if cmd.Len() == 0 {
			start = n
		}
		cont := strings.HasSuffix(trimmed, "\\")
		cmd.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
		if cont {
			continue
		}
		if !strings.HasPrefix(strings.TrimSpace(cmd.String()), "#") {
			out = append(out, commandUses(fmt.Sprintf("%s:%d", rel, start), strings.Fields(cmd.String()))...)
		}
		cmd.Reset()
	}
	return out
}

var (
	pyArguments = regexp.MustCompile(`\barguments\s*=\s*\[`)
	pyString    = regexp.MustCompile(`"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'`)
)

// pythonUses reads the arguments=[...] lists of a DAG file: each starts with
// the step (the image's entrypoint is reviewlens), then its flags.
func pythonUses(t *testing.T, file string) []use {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	rel, _ := filepath.Rel(root(t), file)
	var out []use
	for _, loc := range pyArguments.FindAllStringIndex(src, -1) {
		// The list ends at the ] that closes it, brackets in strings aside.
		depth, end := 1, -1
		for i := loc[1]; i < len(src) && end < 0; i++ {
			switch src[i] {
			case '"', '\'':
				m := pyString.FindStringIndex(src[i:])
				if m == nil || m[0] != 0 {
					t.Fatalf("%s: an unterminated string in arguments", rel)
				}
				i += m[1] - 1
			case '#':
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case '[':
				depth++
			case ']':
				if depth--; depth == 0 {
					end = i
				}
			}
		}
		if end < 0 {
			t.Fatalf("%s: arguments=[ is not closed", rel)
		}
		list := src[loc[1]:end]
		// Comments out: a quote in one is not a string.
		var code strings.Builder
		for line := range strings.Lines(list) {
			if i := strings.Index(line, "#"); i >= 0 && !pyString.MatchString(line[:i]) {
				line = line[:i] + "\n"
			}
			code.WriteString(line)
		}
		var tokens []string
		for _, m := range pyString.FindAllStringSubmatch(code.String(), -1) {
			tokens = append(tokens, m[1]+m[2])
		}
		where := fmt.Sprintf("%s:%d", rel, strings.Count(src[:loc[0]], "\n")+1)
		if len(tokens) == 0 {
			t.Errorf("%s: arguments without a step", where)
			continue
		}
		out = append(out, commandUses(where, append([]string{"reviewlens"}, tokens...))...)
	}
	return out
}

// argoContainer is the part of an Argo template the test reads.
type argoContainer struct {
	Image   string
	Command []string
	Args    []string
	Env     []struct{ Name string }
}

type argoParam struct {
	Name      string
	Value     *string
	ValueFrom *struct{ Path string } `yaml:"valueFrom"`
}

type argoTemplate struct {
	Name                  string
	ActiveDeadlineSeconds any `yaml:"activeDeadlineSeconds"`
	RetryStrategy         *struct {
		Limit       any
		RetryPolicy string `yaml:"retryPolicy"`
		Expression  string
	} `yaml:"retryStrategy"`
	Inputs struct {
		Parameters []argoParam
	}
	Outputs struct {
		Parameters []argoParam
	}
	Container *argoContainer
	DAG       *struct {
		Tasks []struct {
			Name         string
			Template     string
			Dependencies []string
			Arguments    struct{ Parameters []argoParam }
		}
	} `yaml:"dag"`
}

type argoSpec struct {
	Entrypoint            string
	ServiceAccountName    string `yaml:"serviceAccountName"`
	ActiveDeadlineSeconds any    `yaml:"activeDeadlineSeconds"`
	Arguments             struct{ Parameters []argoParam }
	Templates             []argoTemplate
}

type argoDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct{ Name string }
	Spec       struct {
		argoSpec     `yaml:",inline"`
		Schedules    []string
		Schedule     string
		WorkflowSpec *struct {
			WorkflowTemplateRef *struct{ Name string } `yaml:"workflowTemplateRef"`
			Arguments           struct{ Parameters []argoParam }
		} `yaml:"workflowSpec"`
	}
	file string
}

// argoDocs parses every document of examples/argo/*.yaml.
func argoDocs(t *testing.T) []argoDoc {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root(t), "examples", "argo", "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no examples/argo/*.yaml")
	}
	var docs []argoDoc
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(fh)
		dec.KnownFields(false)
		for {
			var d argoDoc
			if err := dec.Decode(&d); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", f, err)
				}
				break
			}
			d.file, _ = filepath.Rel(root(t), f)
			docs = append(docs, d)
		}
		fh.Close()
	}
	return docs
}

// argoUses reads the command lines of every container template.
func argoUses(t *testing.T) []use {
	var out []use
	for _, d := range argoDocs(t) {
		for _, tpl := range d.Spec.Templates {
			if c := tpl.Container; c != nil {
				out = append(out, commandUses(d.file+" template "+tpl.Name, slices.Concat(c.Command, c.Args))...)
			}
		}
	}
	return out
}

// TestExampleFlags: every reviewlens command line of the examples (the
// Airflow DAGs, the Argo workflow, the READMEs) names a step that exists
// and only flags that step has.
func TestExampleFlags(t *testing.T) {
	steps := stepFlags(t)
	r := root(t)
	var uses []use
	pys, _ := filepath.Glob(filepath.Join(r, "examples", "airflow", "*.py"))
	for _, f := range pys {
		uses = append(uses, pythonUses(t, f)...)
	}
	uses = append(uses, argoUses(t)...)
	mds, _ := filepath.Glob(filepath.Join(r, "examples", "*", "README.md"))
	for _, f := range append([]string{filepath.Join(r, "README.md")}, mds...) {
		uses = append(uses, markdownUses(t, f)...)
	}
	seen := map[string]bool{}
	for _, u := range uses {
		flags, ok := steps[u.step]
		if !ok {
			t.Errorf("%s: reviewlens %s: no such step", u.where, u.step)
			continue
		}
		seen[u.step] = true
		for _, f := range u.flags {
			if !flags[f] {
				t.Errorf("%s: reviewlens %s has no flag --%s", u.where, u.step, f)
			}
		}
	}
	// The examples run the daily steps and the weekly ones.
	for _, s := range []string{"stage", "transform", "predictions", "credit", "publish", "manifest", "tune"} {
		if !seen[s] {
			t.Errorf("no example runs reviewlens %s", s)
		}
	}
	if testing.Verbose() {
		t.Logf("%d command lines checked", len(uses))
		for _, u := range uses {
			t.Logf("%s: %s %v", u.where, u.step, u.flags)
		}
	}
}

// TestExampleEnvVars: every REVIEWLENS_ variable the examples set is a
// flag's.
func TestExampleEnvVars(t *testing.T) {
	known := map[string]bool{}
	for _, flags := range stepFlags(t) {
		for f := range flags {
			known[cli.EnvVar(f)] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join(root(t), "examples", "*", "*"))
	re := regexp.MustCompile(`\bREVIEWLENS_[A-Z0-9_]+\b`)
	for _, f := range files {
		if !strings.HasSuffix(f, ".py") && !strings.HasSuffix(f, ".yaml") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range re.FindAllString(string(data), -1) {
			if !known[v] {
				t.Errorf("%s: %s is no flag's environment variable", f, v)
			}
		}
	}
}

// TestAirflowDAGs: the DAG files compile (python3 -m py_compile), and every
// task writes its result where KubernetesPodOperator reads XCom.
func TestAirflowDAGs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(root(t), "examples", "airflow", "*.py"))
	if len(files) == 0 {
		t.Fatal("no examples/airflow/*.py")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, loc := range pyArguments.FindAllStringIndex(string(data), -1) {
			rest := string(data[loc[1]:])
			end := strings.Index(rest, "\n        ],")
			if end < 0 || !strings.Contains(rest[:end], `"--xcom", XCOM`) {
				t.Errorf("%s:%d: the task's arguments lack \"--xcom\", XCOM", f, strings.Count(string(data[:loc[0]]), "\n")+1)
			}
		}
	}
	pod, err := os.ReadFile(filepath.Join(root(t), "examples", "airflow", "reviewlens_pod.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`XCOM = "/airflow/xcom/return.json"`, `"do_xcom_push", True`, `"cmds", ["reviewlens"]`, "AirflowFailException"} {
		if !strings.Contains(string(pod), want) {
			t.Errorf("reviewlens_pod.py lacks %s", want)
		}
	}

	python, err := exec.LookPath("python3")
	if err != nil {
		const msg = "python3 not found: the DAG files were not compiled (python3 -m py_compile)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// Compiled into a temporary folder: no __pycache__ in examples/.
	script := "import py_compile, sys, os\n" +
		"for i, f in enumerate(sys.argv[2:]):\n" +
		"    py_compile.compile(f, cfile=os.path.join(sys.argv[1], str(i) + '.pyc'), doraise=True)\n"
	cmd := exec.Command(python, append([]string{"-c", script, t.TempDir()}, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("python3 py_compile: %v\n%s", err, out)
	}
}

var (
	workflowParam = regexp.MustCompile(`\{\{\s*workflow\.parameters\.([\w-]+)\s*\}\}`)
	inputParam    = regexp.MustCompile(`\{\{\s*inputs\.parameters\.([\w-]+)\s*\}\}`)
	taskOutput    = regexp.MustCompile(`tasks\.([\w-]+)\.outputs\.parameters\.([\w-]+)`)
)

// TestArgoWorkflow: the workflow's YAML parses and has what Argo needs: a
// WorkflowTemplate whose entrypoint and tasks name templates it has, whose
// parameters are declared where they are used, whose steps read their
// result from the --xcom file (valueFrom.path), retry only transient
// failures (exit 75), and have a deadline; and a CronWorkflow that runs it
// with parameters it declares.
func TestArgoWorkflow(t *testing.T) {
	docs := argoDocs(t)
	templates := map[string]argoDoc{}
	var crons []argoDoc
	for _, d := range docs {
		if d.APIVersion != "argoproj.io/v1alpha1" || d.Metadata.Name == "" {
			t.Errorf("%s: apiVersion %q, name %q: want argoproj.io/v1alpha1 and a name", d.file, d.APIVersion, d.Metadata.Name)
		}
		switch d.Kind {
		case "WorkflowTemplate":
			templates[d.Metadata.Name] = d
		case "CronWorkflow":
			crons = append(crons, d)
		default:
			t.Errorf("%s: kind %q: want WorkflowTemplate or CronWorkflow", d.file, d.Kind)
		}
	}
	if len(templates) == 0 || len(crons) == 0 {
		t.Fatalf("want a WorkflowTemplate and a CronWorkflow, got %d and %d", len(templates), len(crons))
	}
	for _, d := range templates {
		checkWorkflowSpec(t, d)
	}
	for _, c := range crons {
		ws := c.Spec.WorkflowSpec
		if len(c.Spec.Schedules) == 0 && c.Spec.Schedule == "" {
			t.Errorf("%s: CronWorkflow %s has no schedule", c.file, c.Metadata.Name)
		}
		if ws == nil || ws.WorkflowTemplateRef == nil {
			t.Errorf("%s: CronWorkflow %s: want workflowSpec.workflowTemplateRef", c.file, c.Metadata.Name)
			continue
		}
		tpl, ok := templates[ws.WorkflowTemplateRef.Name]
		if !ok {
			t.Errorf("%s: CronWorkflow %s runs the WorkflowTemplate %s, which examples/argo lacks", c.file, c.Metadata.Name, ws.WorkflowTemplateRef.Name)
			continue
		}
		given := map[string]bool{}
		for _, p := range ws.Arguments.Parameters {
			given[p.Name] = true
			if !slices.ContainsFunc(tpl.Spec.Arguments.Parameters, func(q argoParam) bool { return q.Name == p.Name }) {
				t.Errorf("%s: CronWorkflow %s passes the parameter %s, which %s does not declare", c.file, c.Metadata.Name, p.Name, tpl.Metadata.Name)
			}
		}
		for _, p := range tpl.Spec.Arguments.Parameters {
			if p.Value == nil && !given[p.Name] {
				t.Errorf("%s: CronWorkflow %s does not pass %s, which has no default", c.file, c.Metadata.Name, p.Name)
			}
		}
	}
}

func checkWorkflowSpec(t *testing.T, d argoDoc) {
	t.Helper()
	spec := d.Spec.argoSpec
	where := d.file + " " + d.Metadata.Name
	byName := map[string]argoTemplate{}
	for _, tpl := range spec.Templates {
		byName[tpl.Name] = tpl
	}
	if _, ok := byName[spec.Entrypoint]; !ok {
		t.Errorf("%s: the entrypoint %q is no template", where, spec.Entrypoint)
	}
	if spec.ServiceAccountName == "" || spec.ActiveDeadlineSeconds == nil {
		t.Errorf("%s: want serviceAccountName (IRSA) and activeDeadlineSeconds", where)
	}
	declared := map[string]bool{}
	for _, p := range spec.Arguments.Parameters {
		declared[p.Name] = true
	}
	if !declared["image"] || !declared["day"] {
		t.Errorf("%s: want the parameters image and day", where)
	}
	steps := 0
	for _, tpl := range spec.Templates {
		out, _ := yaml.Marshal(tpl)
		for _, m := range workflowParam.FindAllStringSubmatch(string(out), -1) {
			if !declared[m[1]] {
				t.Errorf("%s: template %s uses workflow.parameters.%s, which is not declared", where, tpl.Name, m[1])
			}
		}
		inputs := map[string]bool{}
		for _, p := range tpl.Inputs.Parameters {
			inputs[p.Name] = true
		}
		for _, m := range inputParam.FindAllStringSubmatch(string(out), -1) {
			if !inputs[m[1]] {
				t.Errorf("%s: template %s uses inputs.parameters.%s, which it does not declare", where, tpl.Name, m[1])
			}
		}
		if tpl.DAG != nil {
			tasks := map[string]string{}
			for _, task := range tpl.DAG.Tasks {
				tasks[task.Name] = task.Template
			}
			for _, task := range tpl.DAG.Tasks {
				callee, ok := byName[task.Template]
				if !ok {
					t.Errorf("%s: task %s runs the template %q, which does not exist", where, task.Name, task.Template)
					continue
				}
				for _, dep := range task.Dependencies {
					if _, ok := tasks[dep]; !ok {
						t.Errorf("%s: task %s depends on %s, which is no task", where, task.Name, dep)
					}
				}
				for _, p := range callee.Inputs.Parameters {
					if !slices.ContainsFunc(task.Arguments.Parameters, func(a argoParam) bool { return a.Name == p.Name }) {
						t.Errorf("%s: task %s does not pass %s to the template %s", where, task.Name, p.Name, callee.Name)
					}
				}
				for _, a := range task.Arguments.Parameters {
					if !slices.ContainsFunc(callee.Inputs.Parameters, func(p argoParam) bool { return p.Name == a.Name }) {
						t.Errorf("%s: task %s passes %s, which the template %s does not take", where, task.Name, a.Name, callee.Name)
					}
					if a.Value == nil {
						continue
					}
					for _, m := range taskOutput.FindAllStringSubmatch(*a.Value, -1) {
						from, ok := tasks[m[1]]
						if !ok || !slices.Contains(task.Dependencies, m[1]) {
							t.Errorf("%s: task %s reads %s's output but does not depend on it", where, task.Name, m[1])
							continue
						}
						if !slices.ContainsFunc(byName[from].Outputs.Parameters, func(o argoParam) bool { return o.Name == m[2] }) {
							t.Errorf("%s: task %s reads the output %s of %s, which its template lacks", where, task.Name, m[2], m[1])
						}
					}
				}
			}
		}
		c := tpl.Container
		if c == nil {
			continue
		}
		steps++
		if !slices.Equal(c.Command, []string{"reviewlens"}) || len(c.Args) == 0 {
			t.Errorf("%s: template %s: want command [reviewlens] and the step first in args", where, tpl.Name)
		}
		if !workflowParam.MatchString(c.Image) || !strings.Contains(c.Image, "workflow.parameters.image") {
			t.Errorf("%s: template %s: image %q, want {{workflow.parameters.image}}", where, tpl.Name, c.Image)
		}
		xcom := ""
		if i := slices.Index(c.Args, "--xcom"); i >= 0 && i+1 < len(c.Args) {
			xcom = c.Args[i+1]
		}
		if xcom == "" || !slices.ContainsFunc(tpl.Outputs.Parameters, func(p argoParam) bool { return p.ValueFrom != nil && p.ValueFrom.Path == xcom }) {
			t.Errorf("%s: template %s: want --xcom FILE and an output parameter valueFrom.path FILE (got --xcom %q)", where, tpl.Name, xcom)
		}
		rs := tpl.RetryStrategy
		switch {
		case rs == nil:
			t.Errorf("%s: template %s has no retryStrategy", where, tpl.Name)
		case !strings.Contains(rs.Expression, "asInt(lastRetry.exitCode) == 75"):
			t.Errorf("%s: template %s: retryStrategy.expression %q, want it to retry exit 75 (transient) alone among exit codes", where, tpl.Name, rs.Expression)
		case rs.Limit == nil:
			t.Errorf("%s: template %s: retryStrategy without a limit", where, tpl.Name)
		}
		if tpl.ActiveDeadlineSeconds == nil {
			t.Errorf("%s: template %s has no activeDeadlineSeconds", where, tpl.Name)
		}
	}
	if steps == 0 {
		t.Errorf("%s: no container template", where)
	}
}
