package examples_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/Masterminds/sprig/v3"
	"github.com/expr-lang/expr"
)

// argoExpr matches Argo's expression tags, {{=...}}.
var argoExpr = regexp.MustCompile(`\{\{=(.*?)\}\}`)

// argoEnv is the environment Argo Workflows evaluates {{=...}} in
// (util/expr/env: sprig's generic functions under "sprig", less env and
// expandenv; argoproj/pkg/expr's jsonpath), with vars as the workflow's
// variables.
func argoEnv(vars map[string]any) map[string]any {
	fns := sprig.GenericFuncMap()
	delete(fns, "env")
	delete(fns, "expandenv")
	env := map[string]any{"sprig": fns, "jsonpath": jsonpathKey}
	for k, v := range vars {
		env[k] = v
	}
	return env
}

// jsonpathKey is Argo's jsonpath(json, path) for the paths the examples
// use, $.<key> of a JSON object; a key the object lacks is an error here
// (Argo would pass on an empty value).
func jsonpathKey(doc, path string) (any, error) {
	key, ok := strings.CutPrefix(path, "$.")
	if !ok || strings.ContainsAny(key, ".[*") {
		return nil, fmt.Errorf("jsonpath %q: the examples use $.<key> only", path)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return nil, err
	}
	v, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("jsonpath %q: the result JSON %s has no key %s", path, doc, key)
	}
	return v, nil
}

// The CronWorkflow's day is the day before the scheduled time, in UTC,
// whatever the time zone of the Argo controller: evaluated with the
// expression language and the sprig functions Argo uses, on the
// scheduled time as Argo gives it (RFC 3339).
func TestArgoCronDay(t *testing.T) {
	var day string
	for _, c := range argoDocs(t) {
		if c.Kind != "CronWorkflow" || c.Spec.WorkflowSpec == nil {
			continue
		}
		for _, p := range c.Spec.WorkflowSpec.Arguments.Parameters {
			if p.Name == "day" && p.Value != nil {
				day = *p.Value
			}
		}
	}
	m := argoExpr.FindStringSubmatch(day)
	if m == nil || m[0] != day {
		t.Fatalf("the CronWorkflow's day is %q, want one {{=...}} expression", day)
	}
	program, err := expr.Compile(m[1], expr.Env(argoEnv(map[string]any{"workflow": map[string]any{"scheduledTime": ""}})))
	if err != nil {
		t.Fatalf("%s: %v", m[1], err)
	}
	local := time.Local
	t.Cleanup(func() { time.Local = local })
	for _, zone := range []string{"UTC", "America/Los_Angeles", "Asia/Tokyo"} {
		loc, err := time.LoadLocation(zone) // from time/tzdata if the system has none
		if err != nil {
			t.Fatal(err)
		}
		time.Local = loc // the controller's zone
		for scheduled, want := range map[string]string{
			"2026-11-29T03:00:00Z": "2026-11-28",
			"2026-03-01T03:00:00Z": "2026-02-28",
			"2027-01-01T03:00:00Z": "2026-12-31",
		} {
			got, err := expr.Run(program, argoEnv(map[string]any{"workflow": map[string]any{"scheduledTime": scheduled}}))
			if err != nil || got != want {
				t.Errorf("controller in %s, scheduled %s: day %v, %v; want %s", zone, scheduled, got, err, want)
			}
		}
	}
}

// Every {{=...}} of examples/argo runs in Argo's environment, and the
// jsonpath reads of a task's result name a key of that step's result JSON.
func TestArgoExpressions(t *testing.T) {
	tasks := map[string]any{}
	for name, res := range stepResults(t) {
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		tasks[name] = map[string]any{"outputs": map[string]any{"parameters": map[string]any{"result": string(b)}}}
	}
	env := argoEnv(map[string]any{"workflow": map[string]any{"scheduledTime": "2026-11-29T03:00:00Z"}, "tasks": tasks})
	for _, m := range findInExamples(t, "examples/argo/*.yaml", argoExpr) {
		if _, err := expr.Eval(m.sub[1], env); err != nil {
			t.Errorf("%s: %s: %v", m.where, m.sub[1], err)
		}
	}
}
