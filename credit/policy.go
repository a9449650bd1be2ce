package credit

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// How many of a review's photos must qualify for it to earn its credit.
const (
	RequireAny = "any" // one qualifying photo is enough (the default)
	RequireAll = "all" // every photo must qualify
)

// The schemas of a policy file: what its thresholds are thresholds on.
const (
	// SchemaConfidence (1, the files written before the schema key
	// existed) holds a threshold per class on the confidence of the
	// photo's top class: grant when that class qualifies, reject when it
	// does not.
	SchemaConfidence = 1
	// SchemaDecision (2, the current schema) holds a threshold per review
	// type on the decision score: the probability that the photo qualifies
	// for the review's type (grant), or that it does not (reject).
	SchemaDecision = 2
)

// The guarantees calibration can give: which automatic decisions form a
// family, whose share of wrong decisions is bounded on its own.
const (
	// PerDecision (the default) bounds the automatic grants, and the
	// automatic rejects, each on its own (at delta/2 each), pooling the
	// review types: a wrong payment and a wrong refusal are each bounded.
	PerDecision = "per-decision"
	// Overall bounds every automatic decision together (one family at
	// delta): the figure a team quotes as "98% of automatic decisions are
	// right".
	Overall = "overall"
	// PerReviewType bounds the grants and the rejects of each review type
	// on its own (2 families a review type, delta shared among them).
	PerReviewType = "per-review-type"
)

// Guarantees lists the guarantees, the default first.
var Guarantees = []string{PerDecision, Overall, PerReviewType}

// A Policy says which reviews earn credits and when the model's word is
// enough to decide. It is read from a policy file (ParsePolicy), written by
// calibrate (WithThresholds, WriteYAML), and used read-only by Decide:
// share it, but do not change it while decisions are made.
type Policy struct {
	// Schema says what Thresholds are thresholds on: SchemaDecision (the
	// zero value means the same) or SchemaConfidence (an old policy file,
	// still read and decided as before).
	Schema int
	// Version names the policy; every decision records it. Required.
	Version string
	// Classes are the model's class names in index order, as in its class
	// map (classes.json). CheckClasses compares them with a model's.
	Classes []string
	// ReviewTypes holds the rule of each review type, by name.
	ReviewTypes map[string]Rule
	// Guarantee is the guarantee the thresholds were calibrated for
	// (PerDecision, Overall or PerReviewType; "" means PerDecision). It
	// names the families of the certificate; Decide does not use it.
	// SchemaConfidence policies have none.
	Guarantee string
	// Thresholds holds the thresholds at which a photo is decided without
	// a person. Under SchemaDecision they are keyed by review type and are
	// thresholds on the decision score; under SchemaConfidence they are
	// keyed by class and are thresholds on the confidence of the photo's
	// top class. A key with no entry is never decided automatically.
	// ParsePolicy gives every review type (or class) an entry.
	Thresholds map[string]Threshold
	// Certificate says what the thresholds guarantee, as calibrate wrote
	// it (nil when they were not calibrated). It is free-form: read and
	// written back as it is, and not used to decide.
	Certificate map[string]any
	// AuditRate is the share of the reviews decided without a person that
	// go to one anyway, as audits of the automatic decisions (see Audit):
	// a number in [0, 1], written audit_rate; 0 (the default) audits none.
	AuditRate float64
}

// A Rule is what a review of one type must show to earn its credit.
type Rule struct {
	// Qualifying are the classes of photos that earn the credit.
	Qualifying []string
	// Require is RequireAny ("" means the same) or RequireAll.
	Require string
	// Credit is what a granted review earns.
	Credit int64
}

// A Threshold holds the scores at or above which a photo is decided
// automatically. Under SchemaDecision: Grant is the threshold on the
// probability that the photo qualifies for the review's type, Reject the
// threshold on the probability that it does not; both must be above 0.5,
// so that no photo is both. Under SchemaConfidence: the confidence of the
// photo's top class, Grant when that class qualifies for the review's
// type, Reject when it does not. math.Inf(1) (written "never" in the file)
// means that decision always goes to a person.
type Threshold struct {
	Grant, Reject float64
}

// never is a threshold no confidence reaches.
var never = math.Inf(1)

// neverThreshold decides nothing automatically.
var neverThreshold = Threshold{Grant: never, Reject: never}

// Errors to branch on; the messages around them are for people.
var (
	// ErrNoRule is returned (wrapped) for a review type the policy has no
	// rule for.
	ErrNoRule = errors.New("no rule in the policy")
	// ErrClassMismatch is returned (wrapped) by CheckClasses.
	ErrClassMismatch = errors.New("the policy's classes differ from the model's")
)

// A PolicyError is a policy that cannot be used: a policy file that does
// not parse, or a policy that breaks a rule of Validate. Its message names
// the line (when read from a file), the key path and what was expected:
//
//	line 12: thresholds.produkt: unknown class (classes: product, packaging, full-length, half-length, other)
//
// It does not name the file, which the caller knows.
type PolicyError struct {
	Line   int    // 1-based line in the file; 0 when not read from a file
	Path   string // the key at fault, such as "thresholds.product.grant"; "" for the whole file
	Reason string // what is wrong and what was expected
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// The keys of a policy file.
var (
	policyKeys    = []string{"schema", "version", "classes", "review_types", "guarantee", "thresholds", "audit_rate", "certificate"}
	ruleKeys      = []string{"qualifying", "require", "credit"}
	thresholdKeys = []string{"grant", "reject"}
)

// DefaultPolicy returns the rule of the business, with nothing decided
// automatically until the thresholds are calibrated: a product review
// earns 500 when a photo is a full shot of the product (class product), a
// style review 1000 when a photo is a full-length shot of a person wearing
// it (class full-length). Its classes are the labelling job's
// (examples/groundtruth/label-categories.json); DefaultPolicyFor takes
// them from the labels.
func DefaultPolicy() *Policy {
	p, err := DefaultPolicyFor([]string{"product", "packaging", "full-length", "half-length", "other"})
	if err != nil {
		panic(err) // the classes above hold both qualifying classes
	}
	return p
}

// ErrNoDefaultRule is returned (wrapped) by DefaultPolicyFor for classes
// that lack a class the rule of the business needs.
var ErrNoDefaultRule = errors.New("the classes lack the qualifying classes of the default policy")

// DefaultPolicyFor returns the rule of the business (see DefaultPolicy)
// for a model with these classes, in index order (classes.json's names):
// the qualifying classes are found by name, product for product reviews
// and full-length for style reviews, and nothing is decided automatically
// until the thresholds are calibrated. When a name is missing the error
// wraps ErrNoDefaultRule and shows a policy file to start from, with the
// classes given.
func DefaultPolicyFor(classes []string) (*Policy, error) {
	p := &Policy{
		Schema:  SchemaDecision,
		Version: "default",
		Classes: slices.Clone(classes),
		ReviewTypes: map[string]Rule{
			"product": {Qualifying: []string{"product"}, Require: RequireAny, Credit: 500},
			"style":   {Qualifying: []string{"full-length"}, Require: RequireAny, Credit: 1000},
		},
		Guarantee:  PerDecision,
		Thresholds: map[string]Threshold{"product": neverThreshold, "style": neverThreshold},
	}
	var missing []string
	for _, q := range []string{"product", "full-length"} {
		if !slices.Contains(classes, q) {
			missing = append(missing, q)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: no class named %s among %s; write a policy that names the classes that earn each credit, such as:\n\n%s",
			ErrNoDefaultRule, orList(quoteAll(missing)), strings.Join(quoteAll(classes), ", "), ExamplePolicy(classes))
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// ExamplePolicy is a policy file to start from for a model with these
// classes: the first class qualifies for product reviews and the second
// for style reviews, to be edited. It is what DefaultPolicyFor shows when
// the classes lack the names it looks for.
func ExamplePolicy(classes []string) string {
	first, second := "CLASS", "CLASS"
	if len(classes) > 0 {
		first = classes[0]
	}
	if len(classes) > 1 {
		second = classes[1]
	}
	var list []string
	for _, c := range classes {
		list = append(list, yamlName(c))
	}
	return fmt.Sprintf(`schema: 2
version: "1"
classes: [%s]   # the model's classes, in index order
review_types:
  # Which classes earn each credit: edit to your shop's rule.
  product: {qualifying: [%s], require: any, credit: 500}
  style: {qualifying: [%s], require: any, credit: 1000}
guarantee: per-decision
`, strings.Join(list, ", "), yamlName(first), yamlName(second))
}

// yamlName writes a class name as a YAML flow scalar, quoted when it needs
// to be.
func yamlName(s string) string {
	plain := s != "" && !strings.ContainsAny(s, ":,[]{}#&*!|>'\"%@` \t") && !slices.Contains([]string{"true", "false", "null", "yes", "no", "on", "off", "~"}, strings.ToLower(s))
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		plain = false
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
}

// ParsePolicy reads a policy file, of the current schema:
//
//	schema: 2
//	version: "2026-11-28.1"
//	classes: [product, packaging, full-length, half-length, other]
//	review_types:
//	  product: {qualifying: [product], require: any, credit: 500}
//	  style: {qualifying: [full-length], require: any, credit: 1000}
//	guarantee: per-decision
//	thresholds:
//	  product: {grant: 0.93, reject: 0.97}
//	  style: {grant: 0.93, reject: 0.97}
//	certificate: {...}
//
// or of the first (a file with no schema key), whose thresholds are per
// class, on the top class's confidence:
//
//	version: "2026-11-28.1"
//	classes: [...]
//	review_types: {...}
//	thresholds:
//	  product: {grant: 0.95, reject: 0.97}
//	  packaging: {grant: never, reject: 0.9}
//
// version, classes and review_types are required; require defaults to
// any, guarantee to per-decision; a review type (or class) missing from
// thresholds, or a grant or reject missing from one, is never. Unknown and
// repeated keys are errors, and so is anything Validate refuses. Errors
// are *PolicyError.
//
// The policy returned is complete: Schema, every rule's Require and the
// Guarantee are set and every review type (or class) has a Threshold, so
// that WriteYAML writes it back as it reads.
func ParsePolicy(r io.Reader) (*Policy, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &PolicyError{Reason: "empty policy, want a mapping with version, classes, review_types and thresholds"}
		}
		return nil, yamlError(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &PolicyError{Line: next.Line, Reason: "a second YAML document, want one policy"}
	case err != io.EOF:
		return nil, yamlError(err)
	}

	if len(doc.Content) == 0 {
		return nil, &PolicyError{Reason: "empty policy, want a mapping with version, classes, review_types and thresholds"}
	}
	ps := &policyParser{lines: map[string]int{}}
	p, err := ps.policy(doc.Content[0])
	if err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) {
			pe.Line = ps.line(pe.Path)
		}
		return nil, err
	}
	for name, rule := range p.ReviewTypes {
		if rule.Require == "" {
			rule.Require = RequireAny
			p.ReviewTypes[name] = rule
		}
	}
	for _, k := range p.thresholdKeys() {
		if _, ok := p.Thresholds[k]; !ok {
			p.Thresholds[k] = neverThreshold
		}
	}
	if p.Schema == SchemaDecision && p.Guarantee == "" {
		p.Guarantee = PerDecision
	}
	return p, nil
}

// decides says whether p decides on decision scores (SchemaDecision).
func (p *Policy) decides() bool { return p.Schema != SchemaConfidence }

// thresholdKeys are the keys of Thresholds: the review types, sorted
// (SchemaDecision), or the classes in index order (SchemaConfidence).
func (p *Policy) thresholdKeys() []string {
	if p.decides() {
		return slices.Sorted(maps.Keys(p.ReviewTypes))
	}
	return p.Classes
}

// yamlError turns a YAML syntax error ("yaml: line 3: ...") into a
// PolicyError.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pe := &PolicyError{Reason: msg}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, reason, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				pe.Line, pe.Reason = line, reason
			}
		}
	}
	return pe
}

// policyParser walks a policy file's YAML nodes. It checks their shape
// (keys, kinds, types) and notes the line of every key, so that the errors
// of Validate, which knows only key paths, can name lines.
type policyParser struct {
	lines map[string]int // key path -> line
}

// line returns the line of path, or of its closest parent that has one.
func (ps *policyParser) line(path string) int {
	for {
		if l, ok := ps.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return ps.lines[""]
		}
		path = path[:i]
	}
}

func (ps *policyParser) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &PolicyError{Line: n.Line, Path: path, Reason: fmt.Sprintf(format, args...)}
}

// deref follows an alias (*name) to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping calls f with each key and value of the mapping n, in file order,
// after checking that n is a mapping (described by want), that its keys are
// scalars and that none repeats. known, when not nil, lists the keys
// allowed.
func (ps *policyParser) mapping(n *yaml.Node, path, want string, known []string, f func(key string, k, v *yaml.Node) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return ps.errorf(n, path, "want %s", want)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return ps.errorf(k, path, "a key that is not a name, want %s", want)
		}
		p := join(path, k.Value)
		if line, ok := seen[k.Value]; ok {
			return ps.errorf(k, p, "repeated (first at line %d)", line)
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			return ps.errorf(k, p, "unknown key, want %s", orList(known))
		}
		ps.lines[p] = k.Line
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// names reads a list of names.
func (ps *policyParser) names(n *yaml.Node, path, want string) ([]string, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, ps.errorf(n, path, "want %s", want)
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		e = deref(e)
		p := fmt.Sprintf("%s[%d]", path, i)
		ps.lines[p] = e.Line
		if e.Kind != yaml.ScalarNode || isNull(e) {
			return nil, ps.errorf(e, p, "want a class name")
		}
		out = append(out, e.Value)
	}
	return out, nil
}

func (ps *policyParser) policy(root *yaml.Node) (*Policy, error) {
	root = deref(root)
	ps.lines[""] = root.Line
	if isNull(root) {
		return nil, &PolicyError{Line: root.Line, Reason: "empty policy, want a mapping with version, classes, review_types and thresholds"}
	}
	p := &Policy{Schema: SchemaConfidence, ReviewTypes: map[string]Rule{}, Thresholds: map[string]Threshold{}}
	err := ps.mapping(root, "", "a mapping with version, classes, review_types and thresholds", policyKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "schema":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&p.Schema) != nil || (p.Schema != SchemaConfidence && p.Schema != SchemaDecision) {
				return ps.errorf(v, key, "%s, want %d (thresholds on the decision score) or %d (per-class thresholds on the top class's confidence)", show(v), SchemaDecision, SchemaConfidence)
			}
		case "guarantee":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				return ps.errorf(v, key, "%s, want %s", show(v), orList(Guarantees))
			}
			p.Guarantee = v.Value
		case "version":
			p.Version, err = ps.version(v)
		case "classes":
			p.Classes, err = ps.names(v, key, "a list of class names in index order, such as [product, packaging]")
		case "review_types":
			err = ps.rules(v, p.ReviewTypes)
		case "thresholds":
			err = ps.thresholds(v, p.Thresholds)
		case "audit_rate":
			if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!float" && v.ShortTag() != "!!int") || v.Decode(&p.AuditRate) != nil {
				return ps.errorf(v, key, "%s, want a share in [0, 1] such as 0.02", show(v))
			}
		case "certificate":
			if isNull(v) {
				return nil
			}
			if v.Kind != yaml.MappingNode {
				return ps.errorf(v, key, "want a mapping")
			}
			if err := v.Decode(&p.Certificate); err != nil {
				return &PolicyError{Line: k.Line, Path: key, Reason: strings.TrimPrefix(err.Error(), "yaml: ")}
			}
		}
		return err
	})
	return p, err
}

// version reads the version: a string, or a number or date kept as written.
func (ps *policyParser) version(n *yaml.Node) (string, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!null":
			return "", nil // missing: Validate says so
		case "!!str", "!!int", "!!float", "!!timestamp":
			return n.Value, nil
		}
	}
	return "", ps.errorf(n, "version", "want a string such as \"2026-11-28.1\"")
}

func (ps *policyParser) rules(n *yaml.Node, rules map[string]Rule) error {
	if isNull(n) {
		return nil
	}
	return ps.mapping(n, "review_types", "a mapping of review types to rules", nil, func(name string, k, v *yaml.Node) error {
		path := join("review_types", name)
		var r Rule
		hasCredit := false
		err := ps.mapping(v, path, "a rule: a mapping with qualifying, require and credit", ruleKeys, func(key string, _, v *yaml.Node) error {
			p := join(path, key)
			switch key {
			case "qualifying":
				q, err := ps.names(v, p, "a list of the classes that earn the credit, such as [product]")
				r.Qualifying = q
				return err
			case "require":
				if v.Kind != yaml.ScalarNode {
					return ps.errorf(v, p, "want %s or %s", RequireAny, RequireAll)
				}
				if !isNull(v) {
					r.Require = v.Value
				}
			case "credit":
				hasCredit = true
				if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&r.Credit) != nil {
					return ps.errorf(v, p, "%s, want a whole number ≥ 0", show(v))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !hasCredit {
			return ps.errorf(k, join(path, "credit"), "missing, want a whole number ≥ 0")
		}
		rules[name] = r
		return nil
	})
}

func (ps *policyParser) thresholds(n *yaml.Node, ts map[string]Threshold) error {
	if isNull(n) {
		return nil
	}
	return ps.mapping(n, "thresholds", "a mapping of review types (or, schema 1, classes) to thresholds", nil, func(class string, _, v *yaml.Node) error {
		path := join("thresholds", class)
		t := neverThreshold
		err := ps.mapping(v, path, "a mapping with grant and reject, such as {grant: 0.95, reject: never}", thresholdKeys, func(key string, _, v *yaml.Node) error {
			x, err := ps.threshold(v, join(path, key))
			if key == "grant" {
				t.Grant = x
			} else {
				t.Reject = x
			}
			return err
		})
		ts[class] = t
		return err
	})
}

// threshold reads a number in [0, 1] or never.
func (ps *policyParser) threshold(n *yaml.Node, path string) (float64, error) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str":
			if n.Value == "never" {
				return never, nil
			}
		case "!!int", "!!float":
			var x float64
			if err := n.Decode(&x); err == nil && thresholdOK(x) {
				return x, nil
			}
		}
	}
	return 0, ps.errorf(n, path, "%s, want a number in [0, 1] or never", show(n))
}

// show quotes a value of a policy file for a message: 1.5 or "most".
func show(n *yaml.Node) string {
	switch {
	case n.Kind != yaml.ScalarNode:
		return map[yaml.Kind]string{yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}[n.Kind]
	case isNull(n):
		return "empty"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func thresholdOK(x float64) bool { return x >= 0 && x <= 1 || math.IsInf(x, 1) }

// Validate reports the first rule of a policy file that p breaks, as a
// *PolicyError naming the key path: a known schema; a version; distinct,
// non-empty class names; at least one review type, each with known,
// distinct qualifying classes, require any or all (or "") and a credit ≥
// 0; a known guarantee (none under SchemaConfidence); thresholds only for
// known review types, each above 0.5 and at most 1, or never (under
// SchemaConfidence: for known classes, each in [0, 1] or never).
// ParsePolicy calls it; so does WriteYAML.
func (p *Policy) Validate() error {
	bad := func(path, format string, args ...any) error {
		return &PolicyError{Path: path, Reason: fmt.Sprintf(format, args...)}
	}
	if p.Schema != 0 && p.Schema != SchemaConfidence && p.Schema != SchemaDecision {
		return bad("schema", "%d, want %d (thresholds on the decision score) or %d (per-class thresholds on the top class's confidence)", p.Schema, SchemaDecision, SchemaConfidence)
	}
	if p.Version == "" {
		return bad("version", "missing, want a string such as \"2026-11-28.1\"")
	}
	if len(p.Classes) == 0 {
		return bad("classes", "missing, want the model's class names in index order, such as [product, packaging]")
	}
	index := make(map[string]int, len(p.Classes))
	for i, c := range p.Classes {
		path := fmt.Sprintf("classes[%d]", i)
		if c == "" {
			return bad(path, "empty, want a class name")
		}
		if j, ok := index[c]; ok {
			return bad(path, "%q repeats classes[%d]", c, j)
		}
		index[c] = i
	}
	known := "(classes: " + strings.Join(p.Classes, ", ") + ")"
	if len(p.ReviewTypes) == 0 {
		return bad("review_types", "missing, want a rule per review type, such as product: {qualifying: [product], credit: 500}")
	}
	for _, name := range slices.Sorted(maps.Keys(p.ReviewTypes)) {
		r, path := p.ReviewTypes[name], join("review_types", name)
		if name == "" {
			return bad("review_types", "a review type with no name")
		}
		if len(r.Qualifying) == 0 {
			return bad(join(path, "qualifying"), "missing, want the classes whose photos earn the credit, such as [product]")
		}
		for i, q := range r.Qualifying {
			qp := fmt.Sprintf("%s.qualifying[%d]", path, i)
			if _, ok := index[q]; !ok {
				return bad(qp, "unknown class %q %s", q, known)
			}
			if j := slices.Index(r.Qualifying, q); j < i {
				return bad(qp, "%q repeats qualifying[%d]", q, j)
			}
		}
		if r.Require != "" && r.Require != RequireAny && r.Require != RequireAll {
			return bad(join(path, "require"), "%q, want %s or %s", r.Require, RequireAny, RequireAll)
		}
		if r.Credit < 0 {
			return bad(join(path, "credit"), "%d, want a whole number ≥ 0", r.Credit)
		}
	}
	if !(p.AuditRate >= 0 && p.AuditRate <= 1) {
		return bad("audit_rate", "%g, want a share in [0, 1] such as 0.02", p.AuditRate)
	}
	if !p.decides() {
		if p.Guarantee != "" {
			return bad("guarantee", "%q in a schema %d policy, whose thresholds are per class: want none, or schema: %d", p.Guarantee, SchemaConfidence, SchemaDecision)
		}
		for _, class := range slices.Sorted(maps.Keys(p.Thresholds)) {
			t, path := p.Thresholds[class], join("thresholds", class)
			if _, ok := index[class]; !ok {
				return bad(path, "unknown class %s", known)
			}
			if !thresholdOK(t.Grant) {
				return bad(join(path, "grant"), "%s, want a number in [0, 1] or never", formatThreshold(t.Grant))
			}
			if !thresholdOK(t.Reject) {
				return bad(join(path, "reject"), "%s, want a number in [0, 1] or never", formatThreshold(t.Reject))
			}
		}
		return nil
	}
	if p.Guarantee != "" && !slices.Contains(Guarantees, p.Guarantee) {
		return bad("guarantee", "%q, want %s", p.Guarantee, orList(Guarantees))
	}
	types := "(review types: " + strings.Join(slices.Sorted(maps.Keys(p.ReviewTypes)), ", ") + ")"
	for _, name := range slices.Sorted(maps.Keys(p.Thresholds)) {
		t, path := p.Thresholds[name], join("thresholds", name)
		if _, ok := p.ReviewTypes[name]; !ok {
			if _, isClass := index[name]; isClass {
				return bad(path, "a class, but schema %d thresholds are per review type %s; per-class thresholds are schema %d", SchemaDecision, types, SchemaConfidence)
			}
			return bad(path, "unknown review type %s", types)
		}
		if !decisionThresholdOK(t.Grant) {
			return bad(join(path, "grant"), "%s, want a number above 0.5 and at most 1, or never (a threshold at or below 0.5 would both grant and reject a photo)", formatThreshold(t.Grant))
		}
		if !decisionThresholdOK(t.Reject) {
			return bad(join(path, "reject"), "%s, want a number above 0.5 and at most 1, or never (a threshold at or below 0.5 would both grant and reject a photo)", formatThreshold(t.Reject))
		}
	}
	return nil
}

// decisionThresholdOK says whether x is a threshold on a decision score:
// above 0.5 (so that no photo is sure both to qualify and not to) and at
// most 1, or never.
func decisionThresholdOK(x float64) bool { return x > 0.5 && x <= 1 || math.IsInf(x, 1) }

// formatThreshold writes a threshold as the policy file does: the shortest
// decimal that reads back the same, or never.
func formatThreshold(x float64) string {
	if math.IsInf(x, 1) {
		return "never"
	}
	return strconv.FormatFloat(x, 'f', -1, 64)
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// CheckClasses reports whether the policy's classes are the model's: the
// same names in the same (index) order. A policy calibrated for one class
// map means nothing for another. The error wraps ErrClassMismatch and says
// where the lists first differ.
func (p *Policy) CheckClasses(names []string) error {
	if slices.Equal(p.Classes, names) {
		return nil
	}
	name := func(s []string, i int) string {
		if i < len(s) {
			return strconv.Quote(s[i])
		}
		return "missing"
	}
	i := 0
	for i < len(p.Classes) && i < len(names) && p.Classes[i] == names[i] {
		i++
	}
	return fmt.Errorf("%w: class %d is %s in the policy and %s in the model (policy: %s; model: %s)",
		ErrClassMismatch, i, name(p.Classes, i), name(names, i), strings.Join(p.Classes, ", "), strings.Join(names, ", "))
}

// RuleFor returns the rule of a review type. The error for a type the
// policy does not know wraps ErrNoRule.
func (p *Policy) RuleFor(reviewType string) (Rule, error) {
	r, ok := p.ReviewTypes[reviewType]
	if !ok {
		return Rule{}, fmt.Errorf("review type %q has %w (rules for %s)",
			reviewType, ErrNoRule, strings.Join(slices.Sorted(maps.Keys(p.ReviewTypes)), ", "))
	}
	return r, nil
}

// WithThresholds returns a copy of p with the thresholds and certificate
// replaced (nil clears them): what calibrate writes. The keys of t are
// those of p's schema (review types, or classes under SchemaConfidence);
// those not in t are never, so that nothing outlives the certificate that
// vouched for it. p is not changed, and the copy shares nothing with p, t
// or certificate.
func (p *Policy) WithThresholds(t map[string]Threshold, certificate map[string]any) *Policy {
	q := &Policy{
		Schema:      p.Schema,
		Version:     p.Version,
		Classes:     slices.Clone(p.Classes),
		ReviewTypes: make(map[string]Rule, len(p.ReviewTypes)),
		Guarantee:   p.Guarantee,
		Thresholds:  make(map[string]Threshold, len(p.Classes)),
		AuditRate:   p.AuditRate,
	}
	for name, r := range p.ReviewTypes {
		r.Qualifying = slices.Clone(r.Qualifying)
		q.ReviewTypes[name] = r
	}
	for _, k := range q.thresholdKeys() {
		q.Thresholds[k] = neverThreshold
	}
	maps.Copy(q.Thresholds, t)
	if certificate != nil {
		q.Certificate = deepCopy(certificate).(map[string]any)
	}
	return q
}

// deepCopy copies the maps and lists of a free-form value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case map[any]any:
		m := make(map[any]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

const policyHeader = `# reviewlens credit policy (read by credit.ParsePolicy).
#
# review_types: the rule of each review type. A photo qualifies when its
#   class is one of qualifying. require any: one qualifying photo earns the
#   credit; all: every photo must qualify.
# guarantee: what calibrate bounded: per-decision (the automatic grants, and
#   the automatic rejects, each on its own), overall (every automatic
#   decision together) or per-review-type (grants and rejects of each type).
# thresholds: per review type, on the decision score. The model's
#   probability that a photo qualifies (the sum of the probabilities of the
#   qualifying classes) at or above grant: the photo surely qualifies; the
#   probability that it does not at or above reject: it surely does not.
#   Otherwise, or never: a person decides.
# certificate: what the thresholds guarantee, as calibrate found them.`

const policyHeaderConfidence = `# reviewlens credit policy (read by credit.ParsePolicy).
#
# review_types: the rule of each review type. A photo qualifies when its
#   class is one of qualifying. require any: one qualifying photo earns the
#   credit; all: every photo must qualify.
# thresholds: per class, a photo is decided without a person when the
#   model's confidence is at least the threshold: grant when its class
#   qualifies for the review's type, reject when it does not. never: that
#   decision always goes to a person.
# certificate: what the thresholds guarantee, as calibrate found them.`

// WriteYAML writes p as a policy file that ParsePolicy reads back the
// same: a comment header, then the schema (SchemaDecision only: a
// SchemaConfidence policy is written as the files of its time, with no
// schema key), version, classes, the review types by name, the guarantee,
// the thresholds of every review type by name (of every class in class
// order, SchemaConfidence), never where p has none, and the certificate.
// A policy that Validate refuses is not written.
func (p *Policy) WriteYAML(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	plain := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	flowSeq := func(items []string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range items {
			n.Content = append(n.Content, str(s))
		}
		return n
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) { root.Content = append(root.Content, str(key), v) }

	if p.decides() {
		add("schema", plain(strconv.Itoa(SchemaDecision)))
	}
	version := str(p.Version)
	version.Style = yaml.DoubleQuotedStyle
	add("version", version)
	add("classes", flowSeq(p.Classes))

	rules := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range slices.Sorted(maps.Keys(p.ReviewTypes)) {
		r := p.ReviewTypes[name]
		require := r.Require
		if require == "" {
			require = RequireAny
		}
		rules.Content = append(rules.Content, str(name), &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
			str("qualifying"), flowSeq(r.Qualifying),
			str("require"), str(require),
			str("credit"), plain(strconv.FormatInt(r.Credit, 10)),
		}})
	}
	add("review_types", rules)
	header := policyHeaderConfidence
	if p.decides() {
		header = policyHeader
		add("guarantee", str(cmp.Or(p.Guarantee, PerDecision)))
	}

	thresholds := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range p.thresholdKeys() {
		t, ok := p.Thresholds[c]
		if !ok {
			t = neverThreshold
		}
		thresholds.Content = append(thresholds.Content, str(c), &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
			str("grant"), plain(formatThreshold(t.Grant)),
			str("reject"), plain(formatThreshold(t.Reject)),
		}})
	}
	add("thresholds", thresholds)
	if p.AuditRate > 0 {
		add("audit_rate", plain(strconv.FormatFloat(p.AuditRate, 'g', -1, 64)))
	}

	if p.Certificate != nil {
		cert, err := valueNode(p.Certificate)
		if err != nil {
			return fmt.Errorf("write policy: certificate: %w", err)
		}
		add("certificate", cert)
	}

	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{root}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

// valueNode encodes a free-form value as the YAML encoder does, except that
// maps keep sorted keys and a whole float64 is written 1.0, not 1, so that
// it reads back as a float64 and the certificate round-trips.
func valueNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			e, err := valueNode(v[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, e)
		}
		return n, nil
	case map[any]any: // a mapping whose keys are not all strings
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := slices.Collect(maps.Keys(v))
		slices.SortFunc(keys, func(a, b any) int {
			return cmp.Or(strings.Compare(fmt.Sprint(a), fmt.Sprint(b)), strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b)))
		})
		for _, k := range keys {
			kn, err := valueNode(k)
			if err != nil {
				return nil, err
			}
			e, err := valueNode(v[k])
			if err != nil {
				return nil, fmt.Errorf("%v: %w", k, err)
			}
			n.Content = append(n.Content, kn, e)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for i, x := range v {
			e, err := valueNode(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			n.Content = append(n.Content, e)
		}
		return n, nil
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		switch {
		case math.IsInf(v, 1):
			s = ".inf"
		case math.IsInf(v, -1):
			s = "-.inf"
		case math.IsNaN(v):
			s = ".nan"
		case !strings.ContainsAny(s, ".e"):
			s += ".0"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: s}, nil
	}
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}
