package clip

import (
	"strings"
	"testing"
)

func TestQ(t *testing.T) {
	long := strings.Repeat("a", 5000)
	tests := []struct {
		name, in, want string
	}{
		{"short", "s3://b/k.jpg", `"s3://b/k.jpg"`},
		{"exactly the limit", strings.Repeat("x", MaxBytes), `"` + strings.Repeat("x", MaxBytes) + `"`},
		{"long", long, `"` + strings.Repeat("a", MaxBytes) + `"… (5000 bytes)`},
		{"multibyte at the cut", strings.Repeat("a", MaxBytes-1) + "é" + long, `"` + strings.Repeat("a", MaxBytes-1) + `"… (5201 bytes)`},
		{"control characters quoted", "a\nb", `"a\nb"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Q(tt.in); got != tt.want {
				t.Errorf("Q = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSAndLine(t *testing.T) {
	if got, want := S("abc"), "abc"; got != want {
		t.Errorf("S = %q, want %q", got, want)
	}
	if got := S(strings.Repeat("b", 1000)); len(got) > MaxBytes+30 || !strings.HasSuffix(got, "… (1000 bytes)") {
		t.Errorf("S of 1000 bytes = %q", got)
	}
	if got := Line(strings.Repeat("c", 10000), 2000); len(got) > 2030 || !strings.HasSuffix(got, "(10000 bytes)") {
		t.Errorf("Line = %d bytes, ends %q", len(got), got[len(got)-20:])
	}
}
