// Package clip shortens values quoted in error messages and log lines, so
// that a 50 MB image_uri in a reviews file costs a line of stderr, not 100
// MB of it. Every message that quotes a value read from user input goes
// through Q (or S): the first MaxBytes bytes of the value, cut at a
// character boundary, then its full length.
//
//	clip.Q(strings.Repeat("a", 5000)) == `"aaaa…aaa"… (5000 bytes)`
package clip

import (
	"strconv"
	"unicode/utf8"
)

// MaxBytes is how much of a value a message shows.
const MaxBytes = 200

// Q quotes s as %q does, cut to MaxBytes of s with its length added when it
// is longer.
func Q(s string) string {
	if len(s) <= MaxBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s, MaxBytes)) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// S is s cut to MaxBytes with its length added when it is longer, unquoted.
func S(s string) string {
	if len(s) <= MaxBytes {
		return s
	}
	return cut(s, MaxBytes) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

// Line cuts a whole message line to max bytes, as a last guard for
// messages built elsewhere; max below MaxBytes is taken as MaxBytes.
func Line(s string, max int) string {
	max = maxOf(max, MaxBytes)
	if len(s) <= max {
		return s
	}
	return cut(s, max) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

func maxOf(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// cut returns at most n bytes of s, not splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
