// Package htmltest checks the HTML reports the steps write: their inline
// SVG parsed as XML, and that a page needs nothing from elsewhere.
package htmltest

import (
	"encoding/xml"
	"regexp"
	"strings"
	"testing"
)

// A Node is any XML element.
type Node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []Node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

// Attr is the value of the attribute name, "" when absent.
func (n Node) Attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Find returns the elements under n (n included) named name whose class
// is class ("" for any).
func (n Node) Find(name, class string) []Node {
	var out []Node
	if n.XMLName.Local == name && (class == "" || n.Attr("class") == class) {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.Find(name, class)...)
	}
	return out
}

// SVGs parses every <svg> element of the page as XML, strictly; one that
// is not well-formed is fatal.
func SVGs(tb testing.TB, page string) []Node {
	tb.Helper()
	var out []Node
	rest := page
	for {
		start := strings.Index(rest, "<svg")
		if start < 0 {
			return out
		}
		end := strings.Index(rest[start:], "</svg>")
		if end < 0 {
			tb.Fatal("an <svg> without </svg>")
		}
		text := rest[start : start+end+len("</svg>")]
		rest = rest[start+end+len("</svg>"):]
		d := xml.NewDecoder(strings.NewReader(text))
		d.Strict = true
		var n Node
		if err := d.Decode(&n); err != nil {
			tb.Fatalf("an svg is not well-formed XML: %v\n%s", err, text)
		}
		if _, err := d.Token(); err == nil {
			tb.Fatalf("more than one element in the svg text:\n%s", text)
		}
		out = append(out, n)
	}
}

// SelfContained checks the page loads nothing from elsewhere and runs no
// script.
func SelfContained(tb testing.TB, page string) {
	tb.Helper()
	lower := strings.ToLower(page)
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(http", "url(//"} {
		if strings.Contains(lower, bad) {
			tb.Errorf("the page contains %q", bad)
		}
	}
	if m := linkRE.FindString(lower); m != "" {
		tb.Errorf("the page links elsewhere: %s", m)
	}
}

// linkRE matches a tag with an attribute that loads or links something.
var linkRE = regexp.MustCompile(`<[a-z][^>]*\s(src|href|xlink:href|srcset|action)=[^>]*>`)
