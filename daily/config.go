package daily

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/reviewlens/reviewlens/sagemaker"
)

// Config is a day's run, as its YAML file says it. Every string may hold
// the placeholder {day}, the day run (YYYY-MM-DD).
//
//	backend: aws                # or local: train and classify on this machine
//	reviews: s3://shop/exports/dt={day}/reviews.parquet
//	stage:
//	  out: s3://rl/staged/dt={day}/
//	transform:
//	  output: s3://rl/outputs/dt={day}/
//	  model_from_runs: s3://rl/models/runs.parquet
//	predictions:
//	  out: s3://rl/predictions/dt={day}/
//	  classes: s3://rl/labels/classes.json
//	credit:
//	  policy: s3://rl/policy/policy.yaml
//	  out: s3://rl/decisions/dt={day}/
//	publish:
//	  db: postgres://reviewlens@ledger.internal/reviewlens
//
// Backend, LocalRoot, Region, Buckets and Logs say where the run's jobs and
// files are: reviewlens run opens its backend and storage from them. Run
// takes the API and the storage its caller opened, and ignores them.
type Config struct {
	// Backend is "aws" (the default) or "local"; --backend overrides it.
	Backend string `yaml:"backend"`
	// LocalRoot is the local backend's folder of jobs; "" means its
	// default. Local paths in the config (this one, the buckets' folders,
	// the inputs and outputs, an SQLite ledger) are relative to the config
	// file's folder.
	LocalRoot string `yaml:"local_root"`
	// Region is the AWS region; --region overrides it.
	Region string `yaml:"region"`
	// Buckets serves buckets from local folders, by name: the same as
	// --bucket-dir. Folders are relative to the config file's folder.
	Buckets map[string]string `yaml:"buckets"`
	// Logs follows the transform job's logs into the run's log.
	Logs bool `yaml:"logs"`

	// Reviews is the day's reviews table (Parquet or CSV).
	Reviews string `yaml:"reviews"`

	Stage struct {
		Out          string `yaml:"out"`
		InputPrefix  string `yaml:"input_prefix"`
		Copy         bool   `yaml:"copy"`
		OnBadRow     string `yaml:"on_bad_row"`
		AllowEmpty   bool   `yaml:"allow_empty"`
		MaxPayloadMB int    `yaml:"max_payload_mb"`
	} `yaml:"stage"`

	Transform struct {
		Output               string            `yaml:"output"`
		Model                string            `yaml:"model"`
		ModelFromTrainingJob string            `yaml:"model_from_training_job"`
		ModelFromRuns        string            `yaml:"model_from_runs"`
		Role                 string            `yaml:"role"`
		InstanceType         string            `yaml:"instance_type"`
		InstanceCount        int               `yaml:"instance_count"`
		MaxAttempts          int               `yaml:"max_attempts"`
		PollInterval         time.Duration     `yaml:"poll_interval"`
		Tags                 map[string]string `yaml:"tags"`
	} `yaml:"transform"`

	Predictions struct {
		Out             string `yaml:"out"`
		Classes         string `yaml:"classes"`
		AllowIncomplete bool   `yaml:"allow_incomplete"`
	} `yaml:"predictions"`

	Credit struct {
		Policy   string `yaml:"policy"`
		Out      string `yaml:"out"`
		Report   string `yaml:"report"`
		OnBadRow string `yaml:"on_bad_row"`
	} `yaml:"credit"`

	Publish struct {
		// DB is the ledger's DSN; "" means the embedded default.
		DB string `yaml:"db"`
	} `yaml:"publish"`
}

// placeholder matches a {name} in a value.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// ParseConfig reads a config file (name is used in messages) for day:
// unknown keys, values of the wrong type, unknown placeholders and missing
// keys are errors naming the key and its line.
func ParseConfig(data []byte, name, day string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %v", name, trimYAML(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty, want a mapping of keys (reviews, stage, transform, predictions, credit, publish)", name)
	}
	if err := expand(root.Content[0], "", day); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var c Config
	expanded, err := yaml.Marshal(&root)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	// Decoded from the file's own bytes for the line numbers; the
	// placeholders were checked above and are replaced after.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %v", name, trimYAML(err))
	}
	c = Config{}
	if err := yaml.Unmarshal(expanded, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", name, trimYAML(err))
	}
	if err := c.check(&root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if name != "" && !strings.Contains(name, "://") {
		// Local paths are relative to the config file's folder.
		dir := filepath.Dir(name)
		for _, p := range []*string{&c.LocalRoot, &c.Reviews, &c.Stage.Out, &c.Predictions.Out, &c.Predictions.Classes,
			&c.Credit.Policy, &c.Credit.Out, &c.Credit.Report} {
			*p = relTo(dir, *p)
		}
		for b, f := range c.Buckets {
			c.Buckets[b] = relTo(dir, f)
		}
		if db, ok := strings.CutPrefix(c.Publish.DB, "sqlite:"); ok && db != ":memory:" && !strings.HasPrefix(db, "file:") {
			c.Publish.DB = "sqlite:" + relTo(dir, db)
		}
	}
	return &c, nil
}

// expand replaces {day} in every scalar under n, and fails on any other
// placeholder, naming its key and line.
func expand(n *yaml.Node, key, day string) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if key != "" {
				k = key + "." + k
			}
			if err := expand(n.Content[i+1], k, day); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := expand(c, key, day); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		for _, p := range placeholder.FindAllString(n.Value, -1) {
			if p != "{day}" {
				return fmt.Errorf("line %d: %s: unknown placeholder %s in %q, want {day}", n.Line, key, p, n.Value)
			}
		}
		n.Value = strings.ReplaceAll(n.Value, "{day}", day)
	}
	return nil
}

// check fails on a missing key or a value out of range, naming the key and
// the line of its section.
func (c *Config) check(root *yaml.Node) error {
	missing := func(key string) error {
		section, _, _ := strings.Cut(key, ".")
		if line := lineOf(root, section); line > 0 && section != key {
			return fmt.Errorf("line %d: %s: no %s, which is required", line, section, key)
		}
		return fmt.Errorf("%s: required", key)
	}
	bad := func(key, why string) error {
		if line := lineOf(root, key); line > 0 {
			return fmt.Errorf("line %d: %s: %s", line, key, why)
		}
		return fmt.Errorf("%s: %s", key, why)
	}
	for _, kv := range []struct{ key, v string }{
		{"reviews", c.Reviews}, {"stage.out", c.Stage.Out}, {"transform.output", c.Transform.Output},
		{"predictions.out", c.Predictions.Out}, {"predictions.classes", c.Predictions.Classes},
		{"credit.policy", c.Credit.Policy}, {"credit.out", c.Credit.Out},
	} {
		if kv.v == "" {
			return missing(kv.key)
		}
	}
	switch c.Backend {
	case "", "aws", "local":
	default:
		return bad("backend", fmt.Sprintf("%q, want aws or local", c.Backend))
	}
	models := 0
	for _, m := range []string{c.Transform.Model, c.Transform.ModelFromTrainingJob, c.Transform.ModelFromRuns} {
		if m != "" {
			models++
		}
	}
	if models != 1 {
		return bad("transform", "want exactly one of model, model_from_training_job and model_from_runs")
	}
	switch r := c.Transform.Role; {
	case r != "" && c.Transform.Model != "":
		return bad("transform.role", "an existing model (transform.model) keeps its own role; a role goes with model_from_training_job or model_from_runs")
	case r != "" && !sagemaker.ValidRoleARN(r):
		return bad("transform.role", fmt.Sprintf("%q, want an IAM role ARN, arn:aws:iam::<12 digits>:role/<name>", r))
	}
	for key, v := range map[string]string{"stage.on_bad_row": c.Stage.OnBadRow, "credit.on_bad_row": c.Credit.OnBadRow} {
		if v != "" && v != "fail" && v != "skip" {
			return bad(key, fmt.Sprintf("%q, want fail or skip", v))
		}
	}
	for key, v := range map[string]int{"transform.instance_count": c.Transform.InstanceCount, "transform.max_attempts": c.Transform.MaxAttempts,
		"stage.max_payload_mb": c.Stage.MaxPayloadMB} {
		if v < 0 {
			return bad(key, fmt.Sprintf("%d, want a positive number (or leave it out for the default)", v))
		}
	}
	if c.Transform.PollInterval < 0 {
		return bad("transform.poll_interval", "want a positive duration")
	}
	return nil
}

// lineOf is the line of key ("a" or "a.b") in the document, 0 if absent.
func lineOf(root *yaml.Node, key string) int {
	if len(root.Content) == 0 {
		return 0
	}
	n := root.Content[0]
	line := 0
	for part := range strings.SplitSeq(key, ".") {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return line
}

var (
	unknownField = regexp.MustCompile(`field (\S+) not found in type .*`)
	notDuration  = regexp.MustCompile("cannot unmarshal !!str `([^`]*)` into time.Duration")
	wrongType    = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
)

// trimYAML words the YAML package's errors for people: the line, then
// what is wrong, without Go's type names.
func trimYAML(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		m = unknownField.ReplaceAllString(m, "unknown key $1")
		m = notDuration.ReplaceAllString(m, "$1 is not a duration (want one such as 30s or 5m)")
		m = wrongType.ReplaceAllString(m, "$2 is not a value of type $3")
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// relTo makes a relative local path relative to dir instead.
func relTo(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(dir, p)
}
