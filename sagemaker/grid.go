package sagemaker

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A Grid is a grid search over hyperparameters: every combination of the
// axes' values, each with the fixed values too.
type Grid struct {
	Axes  []Axis            // in the order given; the first two are the report's heatmap axes
	Fixed map[string]string // the same in every job
}

// An Axis is one hyperparameter and the values the grid tries.
type Axis struct {
	Name   string
	Values []string
}

// A Setting is one hyperparameter's value at a grid point.
type Setting struct {
	Name, Value string
}

// Size is the number of grid points.
func (g Grid) Size() int {
	n := 1
	for _, a := range g.Axes {
		n *= len(a.Values)
	}
	return n
}

// Points lists every combination of the axes' values, the last axis
// varying fastest.
func (g Grid) Points() [][]Setting {
	points := [][]Setting{nil}
	for _, a := range g.Axes {
		var next [][]Setting
		for _, p := range points {
			for _, v := range a.Values {
				next = append(next, append(slices.Clip(p), Setting{a.Name, v}))
			}
		}
		points = next
	}
	return points
}

// Validate checks each name and value against the algorithm's documented
// ranges, and that no hyperparameter is given twice.
func (g Grid) Validate() error {
	seen := map[string]bool{}
	for _, a := range g.Axes {
		if seen[a.Name] {
			return &SpecError{Field: a.Name, Reason: "given twice in the grid"}
		}
		seen[a.Name] = true
		if len(a.Values) == 0 {
			return &SpecError{Field: a.Name, Reason: "no values"}
		}
		vals := map[string]bool{}
		for _, v := range a.Values {
			if vals[v] {
				return &SpecError{Field: a.Name, Value: v, Reason: "value listed twice"}
			}
			vals[v] = true
			if err := checkOne(a.Name, v); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(g.Fixed)) {
		if seen[name] {
			return &SpecError{Field: name, Reason: "both varied (--grid) and fixed (--set)"}
		}
		if err := checkOne(name, g.Fixed[name]); err != nil {
			return err
		}
	}
	return nil
}

func checkOne(name, value string) error {
	spec, ok := imageClassification[name]
	if !ok {
		return &SpecError{Field: name, Value: value, Reason: "not a hyperparameter of the built-in image-classification algorithm"}
	}
	if reason := spec.check(value); reason != "" {
		return &SpecError{Field: name, Value: value, Reason: reason}
	}
	return nil
}

// ParseGridFlags reads --grid name=v1,v2,... and --set name=value flags.
func ParseGridFlags(grids, sets []string) (Grid, error) {
	g := Grid{Fixed: map[string]string{}}
	for _, f := range grids {
		name, vals, ok := strings.Cut(f, "=")
		if !ok || name == "" || vals == "" {
			return Grid{}, &SpecError{Field: "grid", Value: f, Reason: "want name=value1,value2,..."}
		}
		a := Axis{Name: strings.TrimSpace(name)}
		for _, v := range strings.Split(vals, ",") {
			a.Values = append(a.Values, strings.TrimSpace(v))
		}
		g.Axes = append(g.Axes, a)
	}
	for _, f := range sets {
		name, v, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return Grid{}, &SpecError{Field: "set", Value: f, Reason: "want name=value"}
		}
		if _, dup := g.Fixed[name]; dup {
			return Grid{}, &SpecError{Field: name, Reason: "set twice"}
		}
		g.Fixed[strings.TrimSpace(name)] = strings.TrimSpace(v)
	}
	return g, g.Validate()
}

// ParseGridFile reads a grid from YAML or JSON:
//
//	grid:
//	  num_layers: [18, 34, 50]
//	  epochs: [5, 10, 15]
//	set:
//	  learning_rate: 0.01
//
// Values are kept as written (0.010 stays "0.010"); axes keep the file's
// order.
func ParseGridFile(data []byte) (Grid, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Grid{}, fmt.Errorf("grid file: %w", err)
	}
	g := Grid{Fixed: map[string]string{}}
	if len(doc.Content) == 0 {
		return Grid{}, fmt.Errorf("grid file: empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Grid{}, fmt.Errorf("grid file: line %d: want a mapping with keys grid and set", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if val.Kind != yaml.MappingNode {
			return Grid{}, fmt.Errorf("grid file: line %d: %s: want a mapping of hyperparameters", val.Line, key.Value)
		}
		switch key.Value {
		case "grid":
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, vs := val.Content[j], val.Content[j+1]
				a := Axis{Name: name.Value}
				switch vs.Kind {
				case yaml.SequenceNode:
					for _, v := range vs.Content {
						if v.Kind != yaml.ScalarNode {
							return Grid{}, fmt.Errorf("grid file: line %d: grid.%s: want a list of values", v.Line, name.Value)
						}
						a.Values = append(a.Values, v.Value)
					}
				case yaml.ScalarNode:
					a.Values = []string{vs.Value}
				default:
					return Grid{}, fmt.Errorf("grid file: line %d: grid.%s: want a list of values", vs.Line, name.Value)
				}
				g.Axes = append(g.Axes, a)
			}
		case "set":
			for j := 0; j+1 < len(val.Content); j += 2 {
				name, v := val.Content[j], val.Content[j+1]
				if v.Kind != yaml.ScalarNode {
					return Grid{}, fmt.Errorf("grid file: line %d: set.%s: want one value", v.Line, name.Value)
				}
				g.Fixed[name.Value] = v.Value
			}
		default:
			return Grid{}, fmt.Errorf("grid file: line %d: unknown key %q, want grid or set", key.Line, key.Value)
		}
	}
	if err := g.Validate(); err != nil {
		return Grid{}, fmt.Errorf("grid file: %w", err)
	}
	return g, nil
}

// Merge adds the axes and fixed values of o (flags over a file).
func (g Grid) Merge(o Grid) (Grid, error) {
	out := Grid{Axes: slices.Clone(g.Axes), Fixed: maps.Clone(g.Fixed)}
	if out.Fixed == nil {
		out.Fixed = map[string]string{}
	}
	for _, a := range o.Axes {
		i := slices.IndexFunc(out.Axes, func(b Axis) bool { return b.Name == a.Name })
		if i >= 0 {
			out.Axes[i] = a
		} else {
			out.Axes = append(out.Axes, a)
		}
		delete(out.Fixed, a.Name)
	}
	for k, v := range o.Fixed {
		out.Fixed[k] = v
		out.Axes = slices.DeleteFunc(out.Axes, func(b Axis) bool { return b.Name == k })
	}
	return out, out.Validate()
}

// abbrev shortens a hyperparameter name for job names: num_layers is nl.
func abbrev(name string) string {
	var b bytes.Buffer
	for _, w := range strings.Split(name, "_") {
		if w != "" {
			b.WriteByte(w[0])
		}
	}
	return b.String()
}
